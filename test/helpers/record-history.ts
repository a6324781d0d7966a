/**
 * RECORD_HISTORIES=1 make test rewrites test/histories from this run (see the README), in the
 * JSON the Temporal UI downloads and replayers read, with every payload decrypted: a recorded
 * history has to replay on any machine, without the keys of the stack that ran it. An archive
 * destroys the session's data key, so a recording starts before it: `recordingOf` decrypts the
 * history so far, and `write` adds the events that came after, decrypted where their key still
 * exists (the namespace key's memo). What stays encrypted there (the archive's answer, the
 * workflow's result) a replay never decodes: it compares the commands, not what they returned.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Payload } from '@temporalio/common';
import { isEncrypted, type EncryptionCodec } from '../../src/keys/codec';
import { sessionWorkflowId } from '../../src/session-secret';
import { SESSION_REPLAY_EPOCH } from '../../src/workflows/versioning';
import { HISTORIES } from './replay-gate';
import type { Stack } from './stack';

type JsonPayload = { metadata: Record<string, string>; data?: string };

function isJsonPayload(value: Record<string, unknown>): value is JsonPayload {
  const { metadata } = value;
  return typeof metadata === 'object' && metadata !== null && typeof (metadata as Record<string, unknown>).encoding === 'string';
}

const bytes = (base64: string) => Buffer.from(base64, 'base64');
const base64 = (data: Uint8Array) => Buffer.from(data).toString('base64');

/** `payload` decrypted, or as it is when it is not encrypted or its key is gone. */
async function decrypted(codec: EncryptionCodec, payload: JsonPayload): Promise<JsonPayload> {
  const proto: Payload = { metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, bytes(v)])), ...(payload.data ? { data: bytes(payload.data) } : {}) };
  if (!isEncrypted(proto)) return payload;
  try {
    const [plain] = await codec.decode([proto]);
    return { metadata: Object.fromEntries(Object.entries(plain.metadata ?? {}).map(([k, v]) => [k, base64(v)])), ...(plain.data ? { data: base64(plain.data) } : {}) };
  } catch {
    return payload;
  }
}

/** Every payload anywhere in `value` (inputs, results, failures' encoded attributes), decrypted. */
async function decryptAll(codec: EncryptionCodec, value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => decryptAll(codec, item)));
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  if (isJsonPayload(object)) return decrypted(codec, object);
  return Object.fromEntries(await Promise.all(Object.entries(object).map(async ([key, item]) => [key, await decryptAll(codec, item)])));
}

async function decryptedEvents(stack: Stack, history: temporal.api.history.v1.IHistory): Promise<unknown[]> {
  const { events } = JSON.parse(historyToJSON(history)) as { events: unknown[] };
  return (await decryptAll(stack.encryption.codec, events)) as unknown[];
}

export interface Recording {
  /** Writes test/histories/<name>.json, and the SESSION_REPLAY_EPOCH it was recorded at. */
  write(name: string): Promise<void>;
}

/** Starts recording a session's history (with RECORD_HISTORIES=1; otherwise does nothing): call it before the archive. */
export async function recordingOf(stack: Stack, sessionId: string): Promise<Recording> {
  if (process.env.RECORD_HISTORIES !== '1') return { write: async () => undefined };
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const before = await decryptedEvents(stack, await handle.fetchHistory());
  return {
    async write(name) {
      const after = await decryptedEvents(stack, await handle.fetchHistory());
      writeFileSync(join(HISTORIES, `${name}.json`), `${JSON.stringify({ events: [...before, ...after.slice(before.length)] }, null, 2)}\n`);
      writeFileSync(join(HISTORIES, 'session-replay-epoch.txt'), `${SESSION_REPLAY_EPOCH}\n`);
    },
  };
}
