/**
 * Sweeper Lambda, invoked by the EventBridge schedule (lib/constructs/schedule.ts). Composition
 * root only: configuration and clients once per container, then one sweeper pass per event.
 *
 * It has no key-tag or admin secret (it never checks keys); its settings come from the same
 * variables as the webhook function's, plus REPLICATE_API_BASE when the stack sets it.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/dynamo-client';
import { createLogger } from '../adapters/logger';
import { createAwsPushSender, readAwsSweeperConfig } from '../adapters/aws-runtime';
import { composeSweepDeps } from '../compose';
import { runSweep, type SweepDeps, type SweepResult } from '../core/sweeper';
import { initOnce } from '../adapters/init-once';

const config = readAwsSweeperConfig(process.env);
const log = createLogger('chirp-sweeper');
const client = createDocumentClient();
/** Time kept back from the function's limit: one reconciliation (8 s) plus its writes and pushes. */
const RESERVE_MS = 15_000;

const loadDeps = initOnce<SweepDeps>(async () =>
  composeSweepDeps({
    client,
    activityTable: config.activityTable,
    keyTable: config.keyTable,
    push: await createAwsPushSender(config),
    log,
    bundleId: config.bundleId,
    ...(config.replicateApiBase ? { replicateApiBase: config.replicateApiBase } : {}),
    ...(config.startBudget ? { startBudget: config.startBudget } : {}),
  }));

export async function handler(event: ScheduledEvent, context: Context): Promise<SweepResult> {
  const d = await loadDeps();
  const deadlineMs = d.clock() + Math.max(0, context.getRemainingTimeInMillis() - RESERVE_MS);
  const result = await runSweep(d, { deadlineMs });
  // One line per run: the counts are the sweeper's metrics (alarms watch errors and invocations).
  log.info('sweep finished', { ...result, scheduledAt: event.time });
  return result;
}
