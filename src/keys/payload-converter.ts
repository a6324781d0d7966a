/**
 * Loaded by path into the workflow bundle and the worker (Temporal's payloadConverterPath):
 * Temporal's default conversion, except that a value decoded from a payload the codec did not
 * decrypt carries a mark saying why (src/util/json.ts), so a session started with encryption can
 * refuse it (src/workflows/session/inbound.ts). No Node built-ins: this runs in the workflow sandbox.
 */
import { DefaultPayloadConverter, type ConverterHint, type Payload, type SerializationContext } from '@temporalio/common';
import { markNotDecrypted, type NotDecrypted } from '../util/json';

/** Payload metadata the codec sets on what it did not decrypt: `unencrypted` or `undecryptable`. */
export const NOT_DECRYPTED_METADATA = 'sessionflow-not-decrypted';

function notDecrypted(payload: Payload): NotDecrypted | null {
  const bytes = payload.metadata?.[NOT_DECRYPTED_METADATA];
  const text = bytes ? String.fromCharCode(...bytes) : '';
  return text === 'unencrypted' || text === 'undecryptable' ? text : null;
}

class MarkingPayloadConverter extends DefaultPayloadConverter {
  override fromPayload<T>(payload: Payload, context?: SerializationContext, hint?: ConverterHint<T>): T {
    const value = super.fromPayload<T>(payload, context, hint);
    const why = notDecrypted(payload);
    if (why) markNotDecrypted(value, why);
    return value;
  }
}

export const payloadConverter = new MarkingPayloadConverter();
