/**
 * The payload codec every Temporal client and worker of the project uses: AES-256-GCM from
 * node:crypto with a per-session data key (see payload-keys.ts for which key), the key id in
 * the payload's metadata and bound to the ciphertext as additional data. Decoding follows the
 * key id in the metadata, never the context; payloads written before encryption (no
 * `binary/encrypted` encoding) pass through, noted as unencrypted (NOT_DECRYPTED_METADATA), so
 * older sessions keep running and sessions started with encryption refuse them.
 * A key store that cannot be read fails the call (fail closed): nothing is ever written in plain
 * text. In the worker (`refuseUndecryptable`) a payload that can never decrypt (no key id, a
 * destroyed or unknown key, a tampered ciphertext) becomes `{}` noted as undecryptable instead of
 * an error: an error would fail the workflow task, which Temporal retries for ever.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type DataConverter, type Payload, type PayloadCodec, type SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { KEY_ID_PATTERN, KeyStoreUnavailableError } from './errors';
import { isNamespaceKeyId } from './key-ids';
import type { KeyStore } from './key-store';
import { NOT_DECRYPTED_METADATA } from './payload-converter';
import { payloadKey } from './payload-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES256GCM';
/** What the codec server answers for a payload whose key was destroyed. */
export const SHREDDED_MARKER = '[shredded]';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Decoding a payload whose session key was destroyed (the session was archived and shredded). */
export class ShreddedPayloadError extends Error {
  override readonly name = 'ShreddedPayloadError';
  constructor(readonly keyId: string) {
    super(`payload key ${keyId} was destroyed: the session was shredded`);
  }
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString() : undefined;
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export function encryptPayload(payload: Payload, keyId: string, key: Buffer): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(keyId));
  const plain = temporal.api.common.v1.Payload.encode(payload).finish();
  return {
    metadata: {
      encoding: Buffer.from(ENCRYPTED_ENCODING),
      [KEY_ID_METADATA]: Buffer.from(keyId),
      [CIPHER_METADATA]: Buffer.from(CIPHER),
    },
    data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
  };
}

export function decryptPayload(payload: Payload, keyId: string, key: Buffer): Payload {
  const data = Buffer.from(payload.data ?? new Uint8Array());
  if (text(payload.metadata?.[CIPHER_METADATA]) !== CIPHER || data.length < IV_BYTES + TAG_BYTES) throw new Error('unknown payload cipher');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  return temporal.api.common.v1.Payload.decode(plain) as Payload;
}

export function payloadKeyId(payload: Payload): string | undefined {
  return text(payload.metadata?.[KEY_ID_METADATA]);
}

/** A payload as it arrived, noted as not encrypted. */
function notedUnencrypted(payload: Payload): Payload {
  return { ...payload, metadata: { ...payload.metadata, [NOT_DECRYPTED_METADATA]: Buffer.from('unencrypted') } };
}

/** What the worker decodes a payload that can never decrypt to: `{}`, noted as undecryptable. */
function undecryptable(): Payload {
  return { metadata: { encoding: Buffer.from('json/plain'), [NOT_DECRYPTED_METADATA]: Buffer.from('undecryptable') }, data: Buffer.from('{}') };
}

export interface EncryptionCodecOptions {
  /** The namespace whose key encodes payloads given without a context. */
  namespace: string;
  /** Called with every key store failure before it is rethrown (the worker pauses polling on it). */
  onKeyStoreError?: (err: KeyStoreUnavailableError) => void;
  /** The worker's: a payload that can never decrypt decodes to `{}` noted as undecryptable, not an error. */
  refuseUndecryptable?: boolean;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keys: KeyStore,
    private readonly options: EncryptionCodecOptions,
  ) {}

  private async guard<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof KeyStoreUnavailableError) this.options.onKeyStoreError?.(err);
      throw err;
    }
  }

  private async namespaceKey(keyId: string): Promise<Buffer> {
    const key = await this.keys.get(keyId);
    if (!key) throw new KeyStoreUnavailableError('its namespace key is missing');
    return key;
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const { keyId, kind } = payloadKey(payload, context, this.options.namespace);
        // A session key is created when absent: the api creates it before starting the session,
        // and sessions started before encryption get theirs on their first encoded payload. The
        // namespace key comes from the init step only: without it the store is not this one.
        const key = await this.guard(kind === 'session' ? this.keys.createIfAbsent(keyId) : this.namespaceKey(keyId));
        return encryptPayload(payload, keyId, key);
      }),
    );
  }

  /** The context is ignored: the key id in each payload's metadata decides. */
  async decode(payloads: Payload[], _context?: SerializationContext): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        if (!isEncrypted(payload)) return notedUnencrypted(payload);
        try {
          return await this.decrypt(payload);
        } catch (err) {
          // A key store that cannot be read now may tomorrow: that error stands, and is retried.
          if (!this.options.refuseUndecryptable || err instanceof KeyStoreUnavailableError) throw err;
          return undecryptable();
        }
      }),
    );
  }

  private async decrypt(payload: Payload): Promise<Payload> {
    const keyId = payloadKeyId(payload);
    if (!keyId || !KEY_ID_PATTERN.test(keyId)) throw new Error('an encrypted payload has no valid key id');
    const key = await this.guard(isNamespaceKeyId(keyId) ? this.namespaceKey(keyId) : this.keys.get(keyId));
    if (!key) throw new ShreddedPayloadError(keyId);
    return decryptPayload(payload, keyId, key);
  }
}

/**
 * The failure converter that encodes messages and stack traces (failure-converter.ts), and the
 * payload converter that marks what was not decrypted (payload-converter.ts), by path: workers
 * and workflow bundles load them from there, and clients use the same files.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
export const PAYLOAD_CONVERTER_PATH = require.resolve('./payload-converter');

/** For every client and worker the project creates: the codec and the two converters. */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH, payloadConverterPath: PAYLOAD_CONVERTER_PATH };
}
