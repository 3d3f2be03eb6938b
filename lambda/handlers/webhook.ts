/**
 * Webhook Lambda: POST /v1/webhooks/replicate. Composition root only: configuration and
 * clients once per container, then the shared routes.
 */
import { handle } from 'hono/aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/dynamo-client';
import { createLogger } from '../adapters/logger';
import { createAwsPushSender, readAwsConfig } from '../adapters/aws-runtime';
import { readSecret } from '../adapters/secrets';
import { composeDeps } from '../compose';
import type { IngestDeps } from '../core/ingest-webhook';
import { createApp } from '../http/context';
import { addWebhookRoutes } from '../http/webhook-routes';
import { initOnce } from '../adapters/init-once';

const config = readAwsConfig(process.env);
const log = createLogger('chirp-webhook');
const client = createDocumentClient();

const loadDeps = initOnce<IngestDeps>(async () =>
  composeDeps({
    client,
    activityTable: config.activityTable,
    keyTable: config.keyTable,
    push: await createAwsPushSender(config),
    log,
    tagSecret: await readSecret(config.keyTagSecretArn),
    bundleId: config.bundleId,
    ...(config.startBudget ? { startBudget: config.startBudget } : {}),
  }));

const app = createApp(log);
addWebhookRoutes(app, loadDeps);

export const handler = handle(app);
