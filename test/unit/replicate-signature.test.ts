import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidSigningSecret, signReplicateBody, SignatureError, verifyReplicateSignature } from '../../lambda/core/replicate-signature';

interface Vector { name: string; secret: string; webhookId: string; timestamp: string; body: string; signature: string }
const vectors = (JSON.parse(readFileSync(join(__dirname, '../fixtures/replicate-signed-vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;

describe('Replicate webhook signatures', () => {
  test.each(vectors.map((v) => [v.name, v] as const))('vector %s verifies at its own timestamp', (_name, v) => {
    const body = new TextEncoder().encode(v.body);
    expect(signReplicateBody(v.body, v.webhookId, Number(v.timestamp), v.secret)).toBe(v.signature);
    expect(() => verifyReplicateSignature(body, { webhookId: v.webhookId, timestamp: v.timestamp, signature: v.signature }, [v.secret], Number(v.timestamp))).not.toThrow();
  });

  test('any of several secrets may match; none matching is bad_signature', () => {
    const v = vectors[0]!;
    const body = new TextEncoder().encode(v.body);
    const headers = { webhookId: v.webhookId, timestamp: v.timestamp, signature: v.signature };
    expect(() => verifyReplicateSignature(body, headers, ['whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY', v.secret], Number(v.timestamp))).not.toThrow();
    expect(() => verifyReplicateSignature(body, headers, ['whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY'], Number(v.timestamp))).toThrow(expect.objectContaining({ reason: 'bad_signature' }));
  });

  test('the clock window is ±300 s and checked against the injected clock', () => {
    const v = vectors[0]!;
    const body = new TextEncoder().encode(v.body);
    const headers = { webhookId: v.webhookId, timestamp: v.timestamp, signature: v.signature };
    const ts = Number(v.timestamp);
    expect(() => verifyReplicateSignature(body, headers, [v.secret], ts + 300)).not.toThrow();
    expect(() => verifyReplicateSignature(body, headers, [v.secret], ts - 300)).not.toThrow();
    expect(() => verifyReplicateSignature(body, headers, [v.secret], ts + 301)).toThrow(SignatureError);
    expect(() => verifyReplicateSignature(body, { ...headers, timestamp: '12ab' }, [v.secret], ts)).toThrow(expect.objectContaining({ reason: 'timestamp_out_of_window' }));
    expect(() => verifyReplicateSignature(body, { ...headers, signature: undefined }, [v.secret], ts)).toThrow(expect.objectContaining({ reason: 'missing_signature_headers' }));
  });

  test('recognises usable signing secrets', () => {
    expect(isValidSigningSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    expect(isValidSigningSecret('whsec_short')).toBe(false);
    expect(isValidSigningSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
    expect(isValidSigningSecret('whsec_not base64!!')).toBe(false);
  });
});
