/**
 * The api's client of device client workflows (one per device credential): create, read, revoke.
 * The session ids a device client lists are sealed; they are opened here.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { bindSessionUpdate, deviceClientQuery, revokeDeviceClientUpdate, type DeviceClientInput, type DeviceClientView } from '../contract/device-client';
import { deviceClientWorkflowId } from '../contract/workflow-ids';
import type { SessionSecret } from '../session-secret';
import type { deviceClientWorkflow } from '../workflows/device-client';
import { REFRESH_WINDOW_MS } from './device-tokens';
import { sessionFailure } from './session-errors';
import { newDeviceClientId } from './session-ids';

export class DeviceClients {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly secret: SessionSecret,
    private readonly workflowTaskTimeoutMs?: number,
  ) {}

  private handle(deviceClientId: string): WorkflowHandle<typeof deviceClientWorkflow> {
    return this.client.workflow.getHandle<typeof deviceClientWorkflow>(deviceClientWorkflowId(deviceClientId));
  }

  /** A new device client; it ends unless it launches a session within `unusedMs`. */
  async create(tenantId: string, unusedMs: number, now = Date.now()): Promise<DeviceClientView> {
    const deviceClientId = newDeviceClientId();
    const refreshUntil = now + REFRESH_WINDOW_MS;
    const input: DeviceClientInput = { deviceClientId, tenantId, createdAt: now, refreshUntil, launchBy: Math.min(now + unusedMs, refreshUntil) };
    await this.client.workflow.start('deviceClientWorkflow', {
      workflowId: deviceClientWorkflowId(deviceClientId),
      taskQueue: this.taskQueue,
      args: [input],
      staticSummary: `Device client of ${tenantId}`,
      ...(this.workflowTaskTimeoutMs ? { workflowTaskTimeout: this.workflowTaskTimeoutMs } : {}),
    });
    return { ...input, sessionIds: [], revokedAt: null };
  }

  /** The device client, or null when it does not exist (any more). Its session ids are opened from their sealed form. */
  async get(deviceClientId: string): Promise<DeviceClientView | null> {
    try {
      return this.openSessionIds(await this.handle(deviceClientId).query(deviceClientQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** Revokes it. The device client refuses with the session's refusal types, so failures map as a session's do. */
  async revoke(deviceClientId: string): Promise<DeviceClientView> {
    try {
      return this.openSessionIds(await this.handle(deviceClientId).executeUpdate(revokeDeviceClientUpdate));
    } catch (err) {
      return sessionFailure(err);
    }
  }

  /** Records a launched session on the device client, as its sealed id; the binding maps a failure (device-binding.ts). */
  async bind(deviceClientId: string, sealedSessionId: string): Promise<void> {
    await this.handle(deviceClientId).executeUpdate(bindSessionUpdate, { args: [{ sessionId: sealedSessionId }] });
  }

  private openSessionIds(view: DeviceClientView): DeviceClientView {
    return { ...view, sessionIds: view.sessionIds.map((id) => this.secret.openOrLegacy(id)) };
  }
}
