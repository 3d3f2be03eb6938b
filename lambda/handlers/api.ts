/**
 * API Lambda: every route of ARCHITECTURE §2.4 except the webhook. Composition root only.
 */
import { handle } from 'hono/aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/dynamo-client';
import { createLogger } from '../adapters/logger';
import { createAwsPushSender, readAwsConfig } from '../adapters/aws-runtime';
import { readSecret } from '../adapters/secrets';
import { ENV, requireEnv } from '../config';
import { composeDeps } from '../compose';
import type { ApiDeps } from '../http/api-routes';
import { createApp } from '../http/context';
import { addApiRoutes } from '../http/api-routes';
import { initOnce } from '../adapters/init-once';

const config = readAwsConfig(process.env);
const adminTokenSecretArn = requireEnv(process.env, ENV.adminTokenSecretArn);
const log = createLogger('chirp-api');
const client = createDocumentClient();

const loadDeps = initOnce<ApiDeps>(async () => ({
  ...composeDeps({
    client,
    activityTable: config.activityTable,
    keyTable: config.keyTable,
    push: await createAwsPushSender(config),
    log,
    tagSecret: await readSecret(config.keyTagSecretArn),
    bundleId: config.bundleId,
    ...(config.replicateApiBase ? { replicateApiBase: config.replicateApiBase } : {}),
    ...(config.startBudget ? { startBudget: config.startBudget } : {}),
  }),
  adminToken: await readSecret(adminTokenSecretArn),
}));

const app = createApp(log);
addApiRoutes(app, loadDeps);

export const handler = handle(app);
