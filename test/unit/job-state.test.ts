import { applySnapshot, expireRecord, type JobRecord } from '../../lambda/core/job-state';
import { snapshotFromObject } from '../../lambda/core/replicate-payload';

const NOW = 1_780_000_000;
const snap = (o: Record<string, unknown>) => snapshotFromObject({ id: 'p1', model: 'owner/model', created_at: '2026-06-01T12:00:00Z', ...o });

function record(o: Record<string, unknown>): JobRecord {
  const result = applySnapshot(null, snap(o), NOW);
  return result.record;
}

describe('applySnapshot', () => {
  test('a first snapshot starts the record; a terminal first snapshot says so', () => {
    const first = applySnapshot(null, snap({ status: 'starting' }), NOW);
    expect(first).toMatchObject({ outcome: 'applied', from: null, to: 'starting', event: 'start' });
    expect(first.record.startedAt).toBe(first.record.createdAt);
    const completed = applySnapshot(null, snap({ status: 'succeeded', completed_at: '2026-06-01T12:00:05Z' }), NOW);
    expect(completed).toMatchObject({ outcome: 'applied', to: 'succeeded', reason: 'completed without start' });
    expect(completed.record.endedAt).toBe(Date.parse('2026-06-01T12:00:05Z') / 1000);
  });

  test('moves forward only: processing after starting, never starting after processing', () => {
    const processing = record({ status: 'processing', output: ['a'], started_at: '2026-06-01T12:00:01Z' });
    expect(applySnapshot(record({ status: 'starting' }), snap({ status: 'processing', output: ['a'] }), NOW).outcome).toBe('applied');
    expect(applySnapshot(processing, snap({ status: 'starting' }), NOW)).toMatchObject({ outcome: 'stale', reason: 'starting after processing ignored' });
  });

  test('terminal is sticky, including a different terminal status', () => {
    const done = record({ status: 'succeeded' });
    expect(applySnapshot(done, snap({ status: 'failed' }), NOW)).toMatchObject({ outcome: 'stale', reason: 'already succeeded', record: done });
    expect(applySnapshot(done, snap({ status: 'processing', output: ['a', 'b', 'c'] }), NOW).outcome).toBe('stale');
    const expired = expireRecord(record({ status: 'processing', output: ['a'] }), NOW, 'no word for 1h');
    expect(applySnapshot(expired, snap({ status: 'succeeded' }), NOW).outcome).toBe('stale');
  });

  test('within processing, shorter output or logs is an older snapshot', () => {
    const current = record({ status: 'processing', output: ['a', 'b', 'c'], logs: '0123456789' });
    expect(applySnapshot(current, snap({ status: 'processing', output: ['a', 'b'], logs: '0123456789' }), NOW)).toMatchObject({ outcome: 'stale', reason: 'older snapshot: output 2 < 3' });
    expect(applySnapshot(current, snap({ status: 'processing', output: ['a', 'b', 'c'], logs: '01234' }), NOW)).toMatchObject({ outcome: 'stale', reason: 'older snapshot: logs 5 < 10 chars' });
    expect(applySnapshot(current, snap({ status: 'processing', output: ['a', 'b', 'c'], logs: '0123456789' }), NOW)).toMatchObject({ outcome: 'stale', reason: 'nothing new in this snapshot' });
    expect(applySnapshot(current, snap({ status: 'processing', output: ['a', 'b', 'c', 'd'], logs: '0123456789' }), NOW).outcome).toBe('applied');
  });

  test('an unknown status never ends or regresses a card', () => {
    const fresh = applySnapshot(null, snap({ status: 'warming-up' }), NOW);
    expect(fresh.record).toMatchObject({ status: 'starting', rawStatus: 'warming-up' });
    const running = record({ status: 'processing', output: ['a'] });
    expect(applySnapshot(running, snap({ status: 'warming-up', output: ['a', 'b'] }), NOW).outcome).toBe('stale');
  });

  test('keeps the model and detail when a later snapshot lacks them', () => {
    const current = record({ status: 'processing', output: ['Hello'] });
    const next = applySnapshot(current, snapshotFromObject({ id: 'p1', status: 'processing', output: ['Hello', ' there'] }), NOW);
    expect(next.record.model).toBe('owner/model');
    expect(next.record.detail).toBe('Hello there');
  });
});

describe('expireRecord', () => {
  test('ends a running job as expired with the reason, and leaves terminal jobs alone', () => {
    const running = record({ status: 'processing', logs: ' 50%|█████     | 5/10' });
    const expired = expireRecord(running, NOW + 10, 'no word for 1h');
    expect(expired).toMatchObject({ status: 'expired', endedAt: NOW + 10, detail: 'no word for 1h' });
    expect(expired).not.toHaveProperty('progress');
    const done = record({ status: 'succeeded' });
    expect(expireRecord(done, NOW, 'x')).toBe(done);
  });
});
