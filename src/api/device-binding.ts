/**
 * Binding a launched session to its device client: checked before the launch, recorded after
 * it, and compensated (the session is expired) when the record fails. A device key's binding
 * (`key_…`, the hosted page's) is kept by the session alone: nothing to record.
 */
import type { Client } from '@temporalio/client';
import { MAX_DEVICE_SESSIONS } from '../contract/device-client';
import { expireUpdate, REFUSALS } from '../contract/session';
import { DEVICE_KEY_BINDING_PREFIX } from '../session-secret';
import type { DeviceClients } from './device-clients';
import { SessionRefusedError, sessionFailure } from './session-errors';
import { onSession } from './session-handles';

/** Whether a binding names a device client (`dc_…`), whose workflow lists what it launched, rather than a device key. */
export function isDeviceClient(binding: string): boolean {
  return !binding.startsWith(DEVICE_KEY_BINDING_PREFIX);
}

export class DeviceBinding {
  constructor(
    private readonly client: Client,
    private readonly deviceClients: DeviceClients,
  ) {}

  /** Refuses up front what the device client's bind would refuse: a revoked or full client. */
  async checkCanBind(deviceClientId: string): Promise<void> {
    const client = await this.deviceClients.get(deviceClientId);
    if (!client || client.revokedAt !== null) throw new SessionRefusedError(REFUSALS.WRONG_CLIENT, 'the device client was revoked', undefined);
    if (client.sessionIds.length >= MAX_DEVICE_SESSIONS) {
      throw new SessionRefusedError(REFUSALS.BUSY, `a device client may launch at most ${MAX_DEVICE_SESSIONS} sessions`, undefined);
    }
  }

  /**
   * Records a launched session (as its sealed id) on its device client. Should the client have
   * been revoked (or filled) between the check and now, the session it launched is ended, as
   * DELETE /v1/client would have ended it.
   */
  async bindLaunched(deviceClientId: string, sessionId: string, sealedId: string): Promise<void> {
    try {
      await this.deviceClients.bind(deviceClientId, sealedId);
    } catch (err) {
      const reason = 'its device client was revoked while launching it';
      await onSession(this.client, sessionId, (handle) => handle.executeUpdate(expireUpdate, { args: [{ reason }] })).catch(() => undefined);
      sessionFailure(err);
    }
  }
}
