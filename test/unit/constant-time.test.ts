/**
 * Secret comparisons are constant-time by construction, shown by behaviour rather than by timing:
 * - `secretsEqual` (the admin token) hashes both sides first, so `timingSafeEqual` always gets two
 *   32-byte digests: any lengths compare without throwing and without an early exit on length;
 * - `verifyCredentialTag` (webhook keys, device credentials) checks the public shape, then
 *   compares the whole tag with `timingSafeEqual`, wherever the first wrong character is;
 * - `verifyReplicateSignature` compares each `v1` entry with `timingSafeEqual`.
 * Webhook keys and device credentials are otherwise only ever looked up by their SHA-256.
 */
import crypto, { createHash } from 'node:crypto';
import { generateCredential, secretsEqual, verifyCredentialTag } from '../../lambda/core/inspector-key';
import { signReplicateBody, SignatureError, verifyReplicateSignature } from '../../lambda/core/replicate-signature';

const TAG_SECRET = 'constant-time-tag-secret';
const sha256 = (text: string) => createHash('sha256').update(text).digest();

let calls: [Buffer, Buffer][];

beforeEach(() => {
  calls = [];
  const original = crypto.timingSafeEqual;
  jest.spyOn(crypto, 'timingSafeEqual').mockImplementation((a, b) => {
    calls.push([Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)]);
    return original(a, b);
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('secretsEqual (admin token)', () => {
  test.each([
    ['equal', 'chirp_admin_s3cr3t', 'chirp_admin_s3cr3t', true],
    ['unequal, same length', 'chirp_admin_s3cr3t', 'chirp_admin_s3cr3T', false],
    ['unequal, first character', 'chirp_admin_s3cr3t', 'Chirp_admin_s3cr3t', false],
    ['a prefix of the secret', 'chirp_admin_s3cr3t', 'chirp_admin', false],
    ['longer than the secret', 'chirp_admin_s3cr3t', `chirp_admin_s3cr3t${'x'.repeat(10_000)}`, false],
    ['empty', 'chirp_admin_s3cr3t', '', false],
  ])('%s: compares the SHA-256 of both sides with timingSafeEqual', (_label, secret, given, expected) => {
    // act
    const result = secretsEqual(given, secret);

    // assert
    expect(result).toBe(expected);
    expect(calls).toEqual([[sha256(given), sha256(secret)]]);
    expect(calls[0]!.map((b) => b.length)).toEqual([32, 32]);
  });
});

describe('verifyCredentialTag (webhook keys, device credentials)', () => {
  const key = generateCredential('wh', Uint8Array.from({ length: 32 }, (_, i) => i * 7), TAG_SECRET);
  const tag = key.slice(-8);
  const withTag = (t: string) => `${key.slice(0, -8)}${t}`;
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');

  test.each([
    ['the right tag', tag, true],
    ['the first tag character wrong', `${flip(tag[0]!)}${tag.slice(1)}`, false],
    ['the last tag character wrong', `${tag.slice(0, 7)}${flip(tag[7]!)}`, false],
    ['every tag character wrong', tag.split('').map(flip).join(''), false],
  ])('%s: the whole 8-character tag goes through timingSafeEqual', (_label, givenTag, expected) => {
    // act
    const result = verifyCredentialTag(withTag(givenTag), 'wh', TAG_SECRET);

    // assert
    expect(result).toBe(expected);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((b) => b.length)).toEqual([8, 8]);
    expect(calls[0]![1].toString()).toBe(givenTag);
  });

  test.each([
    ['too short', key.slice(0, -1)],
    ['too long', `${key}A`],
    ['the other kind', key.replace('chirp_wh_', 'chirp_dev_')],
    ['far too long', 'x'.repeat(10_000)],
    ['empty', ''],
  ])('%s: refused by its public shape alone (no secret is involved), never throws', (_label, credential) => {
    // act
    const result = verifyCredentialTag(credential, 'wh', TAG_SECRET);

    // assert
    expect(result).toBe(false);
    expect(calls).toEqual([]);
  });
});

describe('verifyReplicateSignature', () => {
  const secret = `whsec_${Buffer.from('constant-time-signing-secret-012345').toString('base64')}`;
  const body = new TextEncoder().encode('{"id":"abc","status":"starting"}');
  const now = 1_780_000_000;
  const good = signReplicateBody(body, 'msg_1', now, secret);

  test('a forged v1 entry of the right length is compared with timingSafeEqual and refused', () => {
    // prepare
    const forged = `v1,${Buffer.alloc(32, 7).toString('base64')}`;

    // act
    const attempt = () => verifyReplicateSignature(body, { webhookId: 'msg_1', timestamp: String(now), signature: forged }, [secret], now);

    // assert
    expect(attempt).toThrow(SignatureError);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0].length).toBe(calls[0]![1].length);
  });

  test('the genuine entry, listed after a forged one, is accepted through timingSafeEqual', () => {
    // act
    verifyReplicateSignature(body, { webhookId: 'msg_1', timestamp: String(now), signature: `v1,${Buffer.alloc(32, 1).toString('base64')} ${good}` }, [secret], now);

    // assert
    expect(calls).toHaveLength(2);
    expect(calls[1]![0].toString()).toBe(good);
  });
});
