import { signResult, verifyResultSignature } from '../../src/util/result-signature';

const RESULT = { consent: { input: { accepted: true }, output: {} } };
const SECRET = 'secret';
// Computed independently, outside this code base, with:
//   python3 -c 'import hmac,hashlib; print(hmac.new(b"secret",
//     b"{\"consent\":{\"input\":{\"accepted\":true},\"output\":{}}}", hashlib.sha256).hexdigest())'
const VECTOR = '5ae3a61b2290ed5d575bd08d8aa0056996ec6456be94947d909571f65b06d855';
// Same, keyed with b"other-secret".
const VECTOR_OTHER_SECRET = '8009479c5832786cfb606fe459f506254caa14ca3ceb160c32b9117b6b8af172';

describe('signResult', () => {
  it('is the lowercase hex HMAC-SHA256 of the compact JSON (fixed test vector)', () => {
    expect(JSON.stringify(RESULT)).toBe('{"consent":{"input":{"accepted":true},"output":{}}}');
    expect(signResult(RESULT, SECRET)).toBe(VECTOR);
    expect(signResult(RESULT, 'other-secret')).toBe(VECTOR_OTHER_SECRET);
  });

  it('follows the key order of the result as given (no canonical sorting)', () => {
    const reordered = { consent: { output: {}, input: { accepted: true } } };
    expect(signResult(reordered, SECRET)).not.toBe(VECTOR);
  });
});

describe('verifyResultSignature', () => {
  it('accepts the right signature with the right secret', () => {
    expect(verifyResultSignature(RESULT, VECTOR, SECRET)).toBe(true);
    expect(verifyResultSignature(JSON.parse(JSON.stringify(RESULT)), VECTOR, SECRET)).toBe(true);
  });

  it('refuses a wrong secret', () => {
    expect(verifyResultSignature(RESULT, VECTOR, 'Secret')).toBe(false);
    expect(verifyResultSignature(RESULT, VECTOR_OTHER_SECRET, SECRET)).toBe(false);
  });

  it('refuses a tampered result', () => {
    expect(verifyResultSignature({ consent: { input: { accepted: false }, output: {} } }, VECTOR, SECRET)).toBe(false);
    expect(verifyResultSignature({ ...RESULT, extra: { input: null, output: null } }, VECTOR, SECRET)).toBe(false);
  });

  it('refuses a truncated, extended, uppercase or non-hex signature', () => {
    expect(verifyResultSignature(RESULT, VECTOR.slice(0, 63), SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, VECTOR.slice(0, 62), SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, `${VECTOR}00`, SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, VECTOR.toUpperCase(), SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, `${VECTOR.slice(0, 63)}g`, SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, ` ${VECTOR.slice(1)}`, SECRET)).toBe(false);
  });

  it('refuses a signature that differs in one hex digit', () => {
    const last = VECTOR.slice(-1) === '0' ? '1' : '0';
    expect(verifyResultSignature(RESULT, `${VECTOR.slice(0, 63)}${last}`, SECRET)).toBe(false);
  });

  it('refuses a missing or non-string signature', () => {
    expect(verifyResultSignature(RESULT, null, SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, undefined, SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, '', SECRET)).toBe(false);
    expect(verifyResultSignature(RESULT, Buffer.from(VECTOR, 'hex'), SECRET)).toBe(false);
  });
});
