/**
 * One workflow per device client (the Clerk-shaped credential a browser or app holds): it
 * lists the sessions the device launched and records its revocation. The api checks it on
 * every request that carries the credential, so a revoked credential stops working at once.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import {
  bindSessionUpdate,
  deviceClientQuery,
  MAX_DEVICE_SESSIONS,
  revokeDeviceClientUpdate,
  type DeviceClientInput,
  type DeviceClientView,
} from '../contract/device-client';
import { REFUSALS } from '../contract/session';
import { declareVersioningBehavior } from './versioning';

export async function deviceClientWorkflow(input: DeviceClientInput): Promise<DeviceClientView> {
  const sessionIds: string[] = [];
  let revokedAt: number | null = null;
  const view = (): DeviceClientView => ({ ...input, sessionIds: [...sessionIds], revokedAt });
  const refuseIfRevoked = () => {
    if (revokedAt !== null) throw ApplicationFailure.create({ type: REFUSALS.WRONG_STATUS, message: 'the device client was revoked', nonRetryable: true });
  };

  setHandler(deviceClientQuery, view);
  setHandler(
    bindSessionUpdate,
    ({ sessionId }) => {
      if (!sessionIds.includes(sessionId)) sessionIds.push(sessionId);
      return view();
    },
    {
      validator: ({ sessionId }) => {
        refuseIfRevoked();
        if (typeof sessionId !== 'string' || sessionId === '') throw new Error('bindSession needs a session id');
        if (sessionIds.length >= MAX_DEVICE_SESSIONS && !sessionIds.includes(sessionId)) {
          throw ApplicationFailure.create({ type: REFUSALS.BUSY, message: `a device client may launch at most ${MAX_DEVICE_SESSIONS} sessions`, nonRetryable: true });
        }
      },
    },
  );
  setHandler(
    revokeDeviceClientUpdate,
    () => {
      revokedAt = Date.now();
      return view();
    },
    { validator: refuseIfRevoked },
  );

  if (input.launchBy !== undefined) {
    const launched = await condition(() => revokedAt !== null || sessionIds.length > 0, Math.max(1, input.launchBy - Date.now()));
    if (!launched) {
      revokedAt = input.launchBy;
      return view();
    }
  }
  // Past its refresh window the credential is dead anyway; the workflow ends with it.
  await condition(() => revokedAt !== null, Math.max(1, input.refreshUntil - Date.now()));
  if (revokedAt === null) revokedAt = input.refreshUntil;
  return view();
}

/**
 * Auto-upgrade: a device client idles up to 30 days between a few updates, so it moves to each new
 * build at its next task instead of keeping an old one alive. Its changes need patched().
 */
declareVersioningBehavior('AUTO_UPGRADE', deviceClientWorkflow);
