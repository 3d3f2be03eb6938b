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

const config = readAwsConfig(process.env);
const log = createLogger('chirp-webhook');
const client = createDocumentClient();

let deps: Promise<IngestDeps> | undefined;
function loadDeps(): Promise<IngestDeps> {
  deps ??= (async () =>
    composeDeps({
      client,
      activityTable: config.activityTable,
      keyTable: config.keyTable,
      push: await createAwsPushSender(config),
      log,
      tagSecret: await readSecret(config.keyTagSecretArn),
      bundleId: config.bundleId,
      ...(config.startBudget ? { startBudget: config.startBudget } : {}),
    }))();
  // A failed cold start (e.g. Secrets Manager throttled) is retried by the next invocation.
  deps.catch(() => {
    deps = undefined;
  });
  return deps;
}

const app = createApp(log);
addWebhookRoutes(app, loadDeps);

export const handler = handle(app);
