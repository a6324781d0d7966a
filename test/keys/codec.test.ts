/**
 * The codec and its key choice, against a real file key store: which key each payload gets,
 * decoding by the metadata's key id, plain payloads from before encryption, shredded keys,
 * fail-closed store errors, and the cache's bound and lifetime on an injected clock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { CachedKeyStore, KEY_CACHE_TTL_MS } from '../../src/keys/cache';
import { EncryptionCodec, ENCRYPTED_ENCODING, payloadKeyId, ShreddedPayloadError } from '../../src/keys/codec';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf } from '../../src/keys/kek';
import { KeyStoreUnavailableError, namespaceKeyId, sessionKeyId } from '../../src/keys/key-store';
import { NOT_DECRYPTED_METADATA, payloadConverter } from '../../src/keys/payload-converter';
import { notDecryptedBecause } from '../../src/util/json';
import { initialisedFileStore, unreachableKeyStore } from '../helpers/key-stores';

const SESSION_WF = `session-${'ab'.repeat(16)}`;
const session: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: SESSION_WF };
const activity: SerializationContext = { type: 'activity', namespace: 'default', workflowId: SESSION_WF, isLocal: false };
const outbox: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: `webhooks-${'ab'.repeat(16)}` };
const deviceClient: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'device-client-dc_1' };

const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);

const fileStore = () => initialisedFileStore('test-codec-');

describe('the key of each payload', () => {
  const store = new FileKeyStore(mkdtempSync(join('.data', 'test-codec-')), [kekOf(randomBytes(32))]);
  const codec = new EncryptionCodec(store, { namespace: 'default' });
  beforeAll(() => store.initialise('default'));

  test('a session workflow and its activities use its own key; other workflows and no context the namespace key', async () => {
    const person = { name: 'Ada Example' };
    const cases: Array<[SerializationContext | undefined, string]> = [
      [session, sessionKeyId(SESSION_WF)!],
      [activity, sessionKeyId(SESSION_WF)!],
      [outbox, namespaceKeyId('default')],
      [deviceClient, namespaceKeyId('default')],
      [undefined, namespaceKeyId('default')],
    ];
    for (const [context, keyId] of cases) {
      const [encoded] = await codec.encode([toPayload(person)], context);
      expect(Buffer.from(encoded.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      expect(payloadKeyId(encoded)).toBe(keyId);
      expect(Buffer.from(encoded.data!).includes(Buffer.from('Ada Example'))).toBe(false);
      expect(fromPayload((await codec.decode([encoded]))[0])).toEqual(person);
    }
  });

  test('bare strings of a session (memo values, summary) use the namespace key; objects its own', async () => {
    const [summary, number, input] = await codec.encode([toPayload('Session 1234-567890-1234 · flow kyc-basic@draft'), toPayload('1234-567890-1234'), toPayload({ accepted: true })], session);
    expect([payloadKeyId(summary), payloadKeyId(number), payloadKeyId(input)]).toEqual([namespaceKeyId('default'), namespaceKeyId('default'), sessionKeyId(SESSION_WF)]);
  });

  test('legacy session ids map to a session key that does not contain them', () => {
    const legacy = 'DSabcdefghij0123456789';
    expect(sessionKeyId(legacy)).toMatch(/^session-[0-9a-f]{32}$/);
    expect(sessionKeyId(legacy)).not.toContain(legacy);
    expect(sessionKeyId('webhooks-DSabcdefghij0123456789')).toBeNull();
    expect(sessionKeyId('shred-' + 'ab'.repeat(16))).toBeNull();
  });

  test('decoding follows the key id in the metadata, never the context', async () => {
    const [encoded] = await codec.encode([toPayload({ a: 1 })], session);
    expect(fromPayload((await codec.decode([encoded], deviceClient))[0])).toEqual({ a: 1 });
  });

  test('plain payloads written before encryption decode unchanged, noted as unencrypted, and the value carries the note', async () => {
    const plain = toPayload({ legacy: true });
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toEqual({ ...plain, metadata: { ...plain.metadata, [NOT_DECRYPTED_METADATA]: Buffer.from('unencrypted') } });
    const value = payloadConverter.fromPayload(decoded);
    expect(value).toEqual({ legacy: true });
    expect(JSON.stringify(value)).toBe('{"legacy":true}');
    expect(notDecryptedBecause(value)).toBe('unencrypted');
    const [encrypted] = await codec.encode([toPayload({ fresh: true })], session);
    expect(notDecryptedBecause(payloadConverter.fromPayload((await codec.decode([encrypted]))[0]))).toBeNull();
  });

  test("in the worker, a payload that can never decrypt decodes to {} noted as undecryptable: never an error, which would fail the workflow task for ever", async () => {
    const worker = new EncryptionCodec(store, { namespace: 'default', refuseUndecryptable: true });
    const [encoded] = await codec.encode([toPayload({ a: 1 })], session);
    const flipped = { ...encoded, data: Buffer.from(encoded.data!).map((byte, i) => (i === 20 ? byte ^ 1 : byte)) };
    const unknownKey = { ...encoded, metadata: { ...encoded.metadata, 'encryption-key-id': Buffer.from(`session-${'00'.repeat(16)}`) } };
    const badKeyId = { ...encoded, metadata: { ...encoded.metadata, 'encryption-key-id': Buffer.from('../../etc/passwd') } };
    const noKeyId = { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: Buffer.from('x') };
    for (const payload of [flipped, unknownKey, badKeyId, noKeyId]) {
      const [decoded] = await worker.decode([payload]);
      const value = payloadConverter.fromPayload(decoded);
      expect(value).toEqual({});
      expect(notDecryptedBecause(value)).toBe('undecryptable');
      await expect(codec.decode([payload])).rejects.toThrow();
    }
    // A key store that is down may be back tomorrow: that stays an error, and the task is retried.
    const down = new EncryptionCodec(unreachableKeyStore(), { namespace: 'default', refuseUndecryptable: true });
    await expect(down.decode([encoded])).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  });

  test('a tampered ciphertext or a key id moved to another payload fails', async () => {
    const [encoded] = await codec.encode([toPayload({ a: 1 })], session);
    const flipped = { ...encoded, data: Buffer.from(encoded.data!).map((byte, i) => (i === 20 ? byte ^ 1 : byte)) };
    await expect(codec.decode([flipped])).rejects.toThrow();
    const [other] = await codec.encode([toPayload({ a: 1 })], deviceClient);
    await expect(codec.decode([{ ...encoded, metadata: other.metadata }])).rejects.toThrow();
  });

  test('a destroyed key: decoding throws ShreddedPayloadError, encoding for that session throws', async () => {
    const shreddedWf = `session-${'cd'.repeat(16)}`;
    const [encoded] = await codec.encode([toPayload({ secret: 1 })], { type: 'workflow', namespace: 'default', workflowId: shreddedWf });
    await store.destroy(sessionKeyId(shreddedWf)!);
    await expect(codec.decode([encoded])).rejects.toBeInstanceOf(ShreddedPayloadError);
    await expect(codec.encode([toPayload({ x: 1 })], { type: 'workflow', namespace: 'default', workflowId: shreddedWf })).rejects.toThrow('destroyed');
  });
});

test('a key store that cannot be read fails closed: an error, reported, and never a plain payload', async () => {
  const down = unreachableKeyStore();
  const reported: unknown[] = [];
  const codec = new EncryptionCodec(down, { namespace: 'default', onKeyStoreError: (err) => reported.push(err) });
  await expect(codec.encode([toPayload({ a: 1 })], session)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  const [encrypted] = await new EncryptionCodec(await fileStore(), { namespace: 'default' }).encode([toPayload({ a: 1 })], session);
  await expect(codec.decode([encrypted])).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  expect(reported).toHaveLength(2);
});

test('a missing namespace key is an unavailable store, never a shredded payload, and is never created', async () => {
  const store = await fileStore();
  const codec = new EncryptionCodec(store, { namespace: 'default' });
  const [summary] = await codec.encode([toPayload('a bare string: the namespace key')], session);
  await store.destroy(namespaceKeyId('default'));
  await expect(codec.decode([summary])).rejects.toThrow('namespace key is missing');
  await expect(codec.encode([toPayload({ a: 1 })], outbox)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  const other = new EncryptionCodec(store, { namespace: 'other' });
  await expect(other.encode([toPayload({ a: 1 })])).rejects.toThrow('namespace key is missing');
  expect(await store.get(namespaceKeyId('other'))).toBeNull();
});

describe('the key cache', () => {
  test('serves repeated lookups from memory, and a destroyed key at most KEY_CACHE_TTL_MS (30 s) longer', async () => {
    let now = 1_000_000;
    const inner = await fileStore();
    const cache = new CachedKeyStore(inner, { now: () => now });
    const id = sessionKeyId(SESSION_WF)!;
    const key = await cache.createIfAbsent(id);
    for (let i = 0; i < 50; i += 1) expect((await cache.get(id))?.equals(key)).toBe(true);
    expect(cache.storeReads).toBe(1);
    // Destroyed by another process (the shredder): this process still has it until the entry expires.
    await inner.destroy(id);
    now += KEY_CACHE_TTL_MS - 1;
    expect(await cache.get(id)).not.toBeNull();
    now += 1;
    expect(await cache.get(id)).toBeNull();
    expect(KEY_CACHE_TTL_MS).toBe(30_000);
  });

  test('drops expired keys when it remembers another, and keeps no shared memory alive', async () => {
    let now = 1_000_000;
    const cache = new CachedKeyStore(await fileStore(), { now: () => now });
    for (const id of ['k1', 'k2', 'k3']) await cache.createIfAbsent(id);
    now += KEY_CACHE_TTL_MS;
    // k1 to k3 expired and are never read again (their sessions ended): the next key pushes them out.
    const key = await cache.createIfAbsent('k4');
    expect(cache.size).toBe(1);
    // Its own 32 bytes, not a view into a larger (pooled) allocation.
    expect(key.buffer.byteLength).toBe(32);
  });

  test('never caches an absent key, and holds at most maxEntries keys (the oldest go first)', async () => {
    const cache = new CachedKeyStore(await fileStore(), { maxEntries: 3 });
    expect(await cache.get('session-absent')).toBeNull();
    expect(cache.size).toBe(0);
    for (const id of ['k1', 'k2', 'k3', 'k4']) await cache.createIfAbsent(id);
    expect(cache.size).toBe(3);
    const reads = cache.storeReads;
    await cache.get('k4');
    expect(cache.storeReads).toBe(reads);
    await cache.get('k1');
    expect(cache.storeReads).toBe(reads + 1);
  });
});
