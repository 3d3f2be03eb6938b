import { inferEvent, parseReplicateBody, PayloadError, snapshotFromObject } from '../../lambda/core/replicate-payload';

describe('parseReplicateBody', () => {
  test('accepts unknown fields, nulls everywhere and an open status', () => {
    // Act
    const snapshot = parseReplicateBody(JSON.stringify({ id: 'abc123', status: 'Queued-Somewhere', model: null, version: null, output: null, logs: null, error: null, urls: null, metrics: null, brand_new_field: { x: 1 }, webhook_completed: null }));
    // Assert
    expect(snapshot).toMatchObject({ id: 'abc123', status: 'queued-somewhere', model: null, output: null, outputLength: 0, logs: '', error: null, createdAt: null, predictTime: null, dataRemoved: false, webUrl: 'https://replicate.com/p/abc123', kind: 'prediction' });
  });

  test('reads times as epoch seconds and ignores impossible ones', () => {
    const snapshot = snapshotFromObject({ id: 'a', status: 'succeeded', created_at: '2023-09-08T16:19:34.765994Z', started_at: '2022-04-26T20:00:84.583803Z', completed_at: 'soon', metrics: { predict_time: 1.5 } });
    expect(snapshot.createdAt).toBe(Math.floor(Date.parse('2023-09-08T16:19:34.765Z') / 1000));
    expect(snapshot.startedAt).toBeNull();
    expect(snapshot.completedAt).toBeNull();
    expect(snapshot.predictTime).toBe(1.5);
  });

  test('recognises trainings and keeps non-string errors as text', () => {
    const training = snapshotFromObject({ id: 't1', status: 'failed', urls: { get: 'https://api.replicate.com/v1/trainings/t1' }, error: { detail: 'bad weights' }, output: { version: 'v', weights: 'w' } });
    expect(training.kind).toBe('training');
    expect(training.error).toBe('{"detail":"bad weights"}');
    expect(snapshotFromObject({ id: 't2', status: 'starting', destination: 'me/model' }).kind).toBe('training');
  });

  test('data_removed and aborted are carried through', () => {
    const s = snapshotFromObject({ id: 'a', status: 'aborted', data_removed: true, output: null });
    expect(s.status).toBe('aborted');
    expect(s.dataRemoved).toBe(true);
  });

  test('uses the https web URL from the payload, never another scheme', () => {
    expect(snapshotFromObject({ id: 'a', status: 'starting', urls: { web: 'https://replicate.com/p/a' } }).webUrl).toBe('https://replicate.com/p/a');
    expect(snapshotFromObject({ id: 'a', status: 'starting', urls: { web: 'javascript:alert(1)' } }).webUrl).toBe('https://replicate.com/p/a');
  });

  test.each([
    ['not JSON', '{"id":', 'not_json'],
    ['an array', '[]', 'not_a_job'],
    ['no id', '{"status":"starting"}', 'not_a_job'],
    ['no status', '{"id":"abc"}', 'not_a_job'],
    ['an id that is not an id', '{"id":"../../etc","status":"starting"}', 'not_a_job'],
    ['a blank status', '{"id":"abc","status":"  "}', 'not_a_job'],
  ])('rejects %s', (_name, body, code) => {
    expect(() => parseReplicateBody(body)).toThrow(PayloadError);
    try {
      parseReplicateBody(body);
    } catch (err) {
      expect((err as PayloadError).code).toBe(code);
    }
  });
});

describe('inferEvent', () => {
  const snap = (o: Record<string, unknown>) => snapshotFromObject({ id: 'a', ...o });

  test('infers start, output, logs and completed from the snapshot and what came before', () => {
    expect(inferEvent(snap({ status: 'starting' }))).toBe('start');
    expect(inferEvent(snap({ status: 'succeeded' }))).toBe('completed');
    expect(inferEvent(snap({ status: 'aborted' }))).toBe('completed');
    expect(inferEvent(snap({ status: 'processing', output: ['a', 'b'] }), { outputLength: 1, logsLength: 0 })).toBe('output');
    expect(inferEvent(snap({ status: 'processing', output: ['a'], logs: 'more logs' }), { outputLength: 1, logsLength: 2 })).toBe('logs');
    expect(inferEvent(snap({ status: 'processing', logs: 'x' }))).toBe('logs');
    expect(inferEvent(snap({ status: 'processing' }))).toBe('start');
  });
});
