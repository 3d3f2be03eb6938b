/**
 * Push-feedback Lambda (SNS transport only), subscribed to the topic the platform applications
 * send `EventDeliveryFailure` to (lib/constructs/push.ts). Composition root only: the rules are
 * in lambda/core/push-feedback.ts.
 *
 * Each SNS record's `Message` is one delivery-failure event; records are handled one by one and
 * idempotently. When any record could not be handled (the store was unavailable), the invocation
 * fails so that Lambda's asynchronous retry runs it again; records already handled change nothing
 * the second time.
 *
 * Environment: ACTIVITY_TABLE_NAME and KEY_TABLE_NAME (read/write). IAM besides the tables:
 * sns:GetEndpointAttributes and sns:DeleteEndpoint on the platform applications' endpoints.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import type { SNSEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/dynamo-client';
import { DynamoActivityStore } from '../adapters/dynamo/dynamo-activity-store';
import { DynamoKeyStore } from '../adapters/dynamo/dynamo-key-store';
import { createLogger } from '../adapters/logger';
import { createSnsEndpointDirectory } from '../adapters/push/sns-endpoint-directory';
import { ENV, requireEnv } from '../config';
import { handleDeliveryFailure, parseDeliveryFailure, type FeedbackDeps } from '../core/push-feedback';
import { initOnce } from '../adapters/init-once';

export interface FeedbackSummary {
  records: number;
  retired: number;
  ignored: number;
  failed: number;
}

export function createPushFeedbackHandler(loadDeps: () => Promise<FeedbackDeps>): (event: SNSEvent) => Promise<FeedbackSummary> {
  return async (event) => {
    const deps = await loadDeps();
    const records = event.Records ?? [];
    const summary: FeedbackSummary = { records: records.length, retired: 0, ignored: 0, failed: 0 };
    for (const record of records) {
      const snsMessageId = record.Sns?.MessageId;
      const parsed = parseDeliveryFailure(record.Sns?.Message ?? '');
      if ('skip' in parsed) {
        summary.ignored += 1;
        deps.log.info('push feedback record skipped', { snsMessageId, reason: parsed.skip });
        continue;
      }
      try {
        const outcome = await handleDeliveryFailure(deps, parsed.failure);
        if (outcome.action === 'retired') summary.retired += 1;
        else summary.ignored += 1;
      } catch (err) {
        summary.failed += 1;
        deps.log.error('push feedback record failed', { snsMessageId, endpointArn: parsed.failure.endpointArn, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      }
    }
    deps.log.info('push feedback processed', { ...summary });
    if (summary.failed > 0) {
      throw new Error(`${summary.failed} of ${summary.records} delivery-failure records could not be handled; retrying is safe`);
    }
    return summary;
  };
}

/** Configuration and clients once per container (on the first event, so that importing stays side-effect free). */
const loadDeps = initOnce<FeedbackDeps>(async () => {
  const env = process.env;
  const client = createDocumentClient();
  const clock = Date.now;
  return {
    activities: new DynamoActivityStore(client, requireEnv(env, ENV.activityTable), () => Math.floor(clock() / 1000)),
    keys: new DynamoKeyStore(client, requireEnv(env, ENV.keyTable)),
    endpoints: createSnsEndpointDirectory(new SNSClient({})),
    log: createLogger('chirp-push-feedback'),
    clock,
  };
});

export const handler = createPushFeedbackHandler(loadDeps);
