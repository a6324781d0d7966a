/** A workflow history as searchable text, decoded where its key still decodes it. */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ShreddedPayloadError } from '../../src/keys/codec';

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && 'metadata' in value && 'data' in value && typeof (value as Payload).metadata === 'object';
}

/**
 * A history as text: every string, every byte field as UTF-8, and every payload decoded with
 * the codec first (one whose key was destroyed stays as it is: nobody can decode it), so the
 * search covers history "decoded or not". (Not JSON.stringify: protobuf messages turn their
 * bytes into base64 there, where a search would find nothing.)
 */
export async function historyText(codec: PayloadCodec, history: unknown): Promise<string> {
  const parts: string[] = [];
  const visit = async (value: unknown): Promise<void> => {
    if (typeof value === 'string') parts.push(value);
    else if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (isPayload(value)) {
      let payload = value;
      try {
        payload = (await codec.decode([value]))[0];
      } catch (err) {
        if (!(err instanceof ShreddedPayloadError)) throw err;
      }
      for (const bytes of Object.values(payload.metadata ?? {})) await visit(bytes);
      await visit(payload.data);
    } else if (value && typeof value === 'object') {
      for (const inner of Object.values(value)) await visit(inner);
    }
  };
  await visit(history);
  return parts.join('\n');
}
