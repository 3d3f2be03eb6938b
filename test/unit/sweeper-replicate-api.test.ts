/**
 * The Replicate API client the sweeper reconciles with, against a fake Replicate on 127.0.0.1:
 * the request it makes, and how each kind of answer is classified.
 */
import { createReplicateApi, normalizeApiBase, parseRetryAfter } from '../../lambda/adapters/replicate-api';
import { startFakeReplicateApi, type FakeReplicateApi } from '../helpers/fake-replicate-api';

const TOKEN = 'r8_secretTokenValue0123456789';
const NOW = Date.parse('2026-06-01T12:00:00Z');

function prediction(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    model: 'black-forest-labs/flux-schnell',
    version: 'hidden',
    urls: { get: `https://api.replicate.com/v1/predictions/${id}`, web: `https://replicate.com/p/${id}` },
    created_at: '2026-06-01T11:58:00Z',
    started_at: '2026-06-01T11:58:01Z',
    completed_at: '2026-06-01T11:58:05Z',
    status: 'succeeded',
    output: ['https://replicate.delivery/a/out-0.webp'],
    logs: '',
    error: null,
    metrics: { predict_time: 3.9 },
    ...overrides,
  };
}

describe('Replicate API client', () => {
  let api: FakeReplicateApi;

  beforeAll(async () => {
    api = await startFakeReplicateApi();
  });

  afterEach(() => {
    api.reset();
  });

  afterAll(async () => {
    await api.close();
  });

  function client(timeoutMs = 2000): ReturnType<typeof createReplicateApi> {
    return createReplicateApi({ baseUrl: api.url, timeoutMs, clock: () => NOW });
  }

  it('GETs /v1/predictions/{id} with the bearer token and returns the parsed snapshot', async () => {
    // Arrange
    api.answer('p_ok', { body: prediction('p_ok') });
    // Act
    const result = await client().getJob({ kind: 'prediction', id: 'p_ok' }, TOKEN);
    // Assert
    expect(api.requests).toEqual([{ method: 'GET', path: '/v1/predictions/p_ok', kind: 'predictions', id: 'p_ok', authorization: `Bearer ${TOKEN}` }]);
    expect(result.outcome).toBe('ok');
    if (result.outcome !== 'ok') return;
    expect(result.snapshot).toMatchObject({ id: 'p_ok', kind: 'prediction', status: 'succeeded', outputLength: 1, predictTime: 3.9 });
  });

  it('GETs /v1/trainings/{id} for a training, which stays a training whatever the body looks like', async () => {
    // Arrange
    api.answer('t_1', { body: prediction('t_1', { status: 'processing', urls: {}, output: null }) });
    // Act
    const result = await client().getJob({ kind: 'training', id: 't_1' }, TOKEN);
    // Assert
    expect(api.requests[0]!.path).toBe('/v1/trainings/t_1');
    expect(result.outcome === 'ok' && result.snapshot.kind).toBe('training');
  });

  it('accepts REPLICATE_API_BASE with or without /v1 and trailing slashes', () => {
    // Act + Assert
    expect(normalizeApiBase('https://api.replicate.com/')).toBe('https://api.replicate.com');
    expect(normalizeApiBase('https://api.replicate.com/v1/')).toBe('https://api.replicate.com');
    expect(normalizeApiBase('http://127.0.0.1:9999/proxy')).toBe('http://127.0.0.1:9999/proxy');
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [404, 'not-found'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [422, 'retry'],
  ])('classifies HTTP %i as %s, without the token in the reason', async (status, outcome) => {
    // Arrange
    api.answer('p_err', { status, body: { detail: `problem with ${TOKEN}`, status } });
    // Act
    const result = await client().getJob({ kind: 'prediction', id: 'p_err' }, TOKEN);
    // Assert
    expect(result.outcome).toBe(outcome);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    expect(result.outcome !== 'ok' && result.reason).toContain(`HTTP ${status}`);
  });

  it('reads Retry-After as seconds or as an HTTP date', async () => {
    // Arrange
    api.answer('p_429', { status: 429, body: { detail: 'Request was throttled.' }, headers: { 'retry-after': '42' } });
    api.answer('p_503', { status: 503, body: {}, headers: { 'retry-after': new Date(NOW + 90_000).toUTCString() } });
    // Act
    const throttled = await client().getJob({ kind: 'prediction', id: 'p_429' }, TOKEN);
    const unavailable = await client().getJob({ kind: 'prediction', id: 'p_503' }, TOKEN);
    // Assert
    expect(throttled).toMatchObject({ outcome: 'retry', status: 429, retryAfterSeconds: 42 });
    expect(unavailable).toMatchObject({ outcome: 'retry', status: 503, retryAfterSeconds: 90 });
    expect(parseRetryAfter('not a date', NOW)).toBeUndefined();
    expect(parseRetryAfter('999999', NOW)).toBe(3600);
  });

  it('gives up after its timeout and asks to retry', async () => {
    // Arrange
    api.answer('p_slow', { hang: true });
    // Act
    const result = await client(100).getJob({ kind: 'prediction', id: 'p_slow' }, TOKEN);
    // Assert
    expect(result).toEqual({ outcome: 'retry', reason: 'no answer within 100 ms' });
  });

  it('treats an unreachable host, a non-JSON answer and an answer about another job as retryable', async () => {
    // Arrange
    api.answer('p_html', { status: 200, body: undefined, headers: { 'content-type': 'text/html' } });
    api.answer('p_other', { body: prediction('p_someone_else') });
    const unreachable = createReplicateApi({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });
    // Act
    const results = await Promise.all([
      unreachable.getJob({ kind: 'prediction', id: 'p_x' }, TOKEN),
      client().getJob({ kind: 'prediction', id: 'p_html' }, TOKEN),
      client().getJob({ kind: 'prediction', id: 'p_other' }, TOKEN),
    ]);
    // Assert
    expect(results.map((r) => r.outcome)).toEqual(['retry', 'retry', 'retry']);
    expect(results[0]!.outcome !== 'ok' && results[0]!.reason).toMatch(/^network error/);
    expect(results.map((r) => JSON.stringify(r)).join('')).not.toContain(TOKEN);
  });
});
