/**
 * A small job and activity with one sandbox device `d1`, at a fixed epoch second, for the push
 * policy and delivery tests. Override any field.
 */
import type { ActivityRecord } from '../../lambda/core/activity';
import type { JobRecord } from '../../lambda/core/job-state';

export const FIXTURE_NOW = 1_780_000_000;

export function fixtureJob(o: Partial<JobRecord> = {}): JobRecord {
  return { jobId: 'p1', kind: 'prediction', model: 'o/m', status: 'starting', outputLength: 0, logsLength: 0, createdAt: FIXTURE_NOW - 5, startedAt: FIXTURE_NOW - 5, webUrl: 'https://replicate.com/p/p1', ...o };
}

export function fixtureActivity(o: Partial<ActivityRecord> = {}): ActivityRecord {
  return {
    activityId: 'act_1',
    inspectorId: 'insp_1',
    inspectorName: 'GPU team',
    job: fixtureJob(),
    devices: { d1: { environment: 'sandbox', sentSeq: 0 } },
    seq: 1,
    lastTimestamp: 0,
    lastEventAt: FIXTURE_NOW,
    recentWebhookIds: [],
    createdAt: FIXTURE_NOW,
    ...o,
  };
}
