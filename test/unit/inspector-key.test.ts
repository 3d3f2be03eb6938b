import { credentialHint, generateCredential, hashCredential, secretsEqual, verifyCredentialTag } from '../../lambda/core/inspector-key';

const SECRET = 'tag-secret-for-tests';
const bytes = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 17) % 256);

describe('credentials', () => {
  test('a generated key verifies under its secret and kind only', () => {
    const key = generateCredential('wh', bytes(1), SECRET);
    expect(key).toMatch(/^chirp_wh_[0-9A-Za-z]{22}_[0-9A-Za-z]{8}$/);
    expect(verifyCredentialTag(key, 'wh', SECRET)).toBe(true);
    expect(verifyCredentialTag(key, 'dev', SECRET)).toBe(false);
    expect(verifyCredentialTag(key, 'wh', 'another-secret')).toBe(false);
  });

  test('any single-character change breaks the tag', () => {
    const key = generateCredential('wh', bytes(2), SECRET);
    const chars = key.split('');
    for (let i = 'chirp_wh_'.length; i < chars.length; i++) {
      if (chars[i] === '_') continue;
      const forged = [...chars];
      forged[i] = forged[i] === 'A' ? 'B' : 'A';
      expect(verifyCredentialTag(forged.join(''), 'wh', SECRET)).toBe(false);
    }
  });

  test('rejects malformed input without throwing', () => {
    for (const bad of ['', 'chirp_wh_', 'chirp_wh_short_tag', `chirp_wh_${'a'.repeat(22)}_${'b'.repeat(8)}x`, 'x'.repeat(10_000), 'chirp_wh_ａａａａａａａａａａａａａａａａａａａａａａ_aaaaaaaa']) {
      expect(verifyCredentialTag(bad, 'wh', SECRET)).toBe(false);
    }
  });

  test('stores only a hash and shows only a hint', () => {
    const key = generateCredential('dev', bytes(3), SECRET);
    expect(hashCredential(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCredential(key)).not.toContain(key);
    expect(credentialHint(key)).toBe(`${key.slice(0, 'chirp_dev_'.length + 4)}…`);
    expect(generateCredential('dev', bytes(4), SECRET)).not.toBe(key);
  });

  test('secretsEqual compares whole secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});
