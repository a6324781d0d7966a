/**
 * The device client workflow's contract (Clerk shape): one workflow per device credential,
 * listing the sessions it launched, until it is revoked or its refresh window ends. Its id:
 * workflow-ids.ts.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export interface DeviceClientInput {
  deviceClientId: string;
  /** The tenant app whose device this is (its redirect allow-list applies). Persisted name: `tenantId`. */
  tenantId: string;
  createdAt: number;
  /** Unix ms after which the credential can no longer be refreshed; the workflow ends then. */
  refreshUntil: number;
  /**
   * Unix ms by which the client must have launched a session, else it ends (revoked) then, so an
   * anonymous POST /v1/client keeps no workflow for the whole refresh window. Absent in clients
   * created before it existed, which wait for refreshUntil only: optional for good (clients
   * from before can live for a whole refresh window, and recorded histories carry them).
   */
  launchBy?: number;
}

export interface DeviceClientView {
  deviceClientId: string;
  tenantId: string;
  createdAt: number;
  refreshUntil: number;
  sessionIds: string[];
  revokedAt: number | null;
}

/** How many sessions one device client may launch. */
export const MAX_DEVICE_SESSIONS = 100;

/** `sessionId` is sealed (see SessionInput.sealedId): the device client's history never holds a handshake id. */
export const bindSessionUpdate = defineUpdate<DeviceClientView, [{ sessionId: string }]>('bindSession');
export const revokeDeviceClientUpdate = defineUpdate<DeviceClientView, []>('revoke');
export const deviceClientQuery = defineQuery<DeviceClientView>('deviceClient');
