/**
 * Local mode (ARCHITECTURE §4): the product's own handlers on an embedded DynamoDB-compatible
 * store, with pushes written to an outbox file (or sent to APNs), a demo inspector bound to a
 * simulated iPhone, and `local.json` for the CLI and scripts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createOutboxPushSender, type OutboxLine } from '../lambda/adapters/push/outbox-push-sender';
import { createLogger } from '../lambda/adapters/logger';
import { composeDeps } from '../lambda/compose';
import { createInspector, registerDevice, webhookUrlFor } from '../lambda/core/directory';
import { runSweep } from '../lambda/core/sweeper';
import type { PushMessage, PushSender } from '../lambda/core/push-port';
import type { StartBudget } from '../lambda/core/start-pacing';
import type { RateLimitSettings } from '../lambda/core/rate-limit';
import { addApiRoutes, type ApiDeps } from '../lambda/http/api-routes';
import { createApp, type AppEnv } from '../lambda/http/context';
import { addWebhookRoutes } from '../lambda/http/webhook-routes';
import { startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamo';
import { SimulatedPhone } from './simulated-phone';

export interface LocalServerOptions {
  dataDir: string;
  port: number;
  host: string;
  /** Public URL (a tunnel) printed in webhook URLs instead of http://host:port. */
  publicUrl?: string;
  /** Push transport: the outbox file (default) or a real/fake APNs. */
  push?: PushSender;
  /** Epoch ms; tests inject a clock. */
  clock?: () => number;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Called for each outbox line (the terminal printer). */
  onOutboxLine?: (line: OutboxLine) => void;
  /** Extra routes (the inspector page, admin routes) added by later layers. */
  extraRoutes?: (app: Hono<AppEnv>, deps: () => Promise<ApiDeps>) => void;
  /** Bundle id used in topics; local mode has no real app, so a placeholder is fine. */
  bundleId?: string;
  /** Per-inspector webhook rate limit (default DEFAULT_RATE_LIMIT). */
  rateLimit?: RateLimitSettings;
  /** Seconds between sweeper passes (CHIRP_SWEEP_INTERVAL_S); no timer when undefined or 0. */
  sweepIntervalSeconds?: number;
  /** REPLICATE_API_BASE for reconciliation (default https://api.replicate.com). */
  replicateApiBase?: string;
  /** Push-to-start budget per device (CHIRP_PUSH_TO_START_MAX / _WINDOW_MINUTES); default 8 per hour. */
  startBudget?: StartBudget;
}

/** `$CHIRP_DATA_DIR/local.json` (a contract): how the CLI and scripts find the local server. */
export interface LocalJson {
  url: string;
  adminToken: string;
  inspectors: { id: string; name: string; webhookUrl: string }[];
  devices: { id: string; name: string }[];
}

/** Secrets that only the local server reads (0600); never printed except the demo webhook URL. */
interface LocalSecrets {
  tagSecret: string;
  adminToken: string;
  demo?: { inspectorId: string; name: string; key: string; deviceId: string; deviceName: string; deviceSecret: string };
}

export interface LocalServer {
  url: string;
  port: number;
  dataDir: string;
  outboxFile: string;
  localJson: LocalJson;
  deps: ApiDeps;
  dynamo: EmbeddedDynamo;
  firstStart: boolean;
  /** Resolves once the simulated phone has reported every token it owes (tests). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is not readable JSON; delete it to start fresh (${(err as Error).message})`);
  }
}

async function writePrivateJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
  await chmod(file, 0o600);
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  await mkdir(options.dataDir, { recursive: true });
  const clock = options.clock ?? Date.now;
  const secretsFile = join(options.dataDir, 'secrets.json');
  const outboxFile = join(options.dataDir, 'outbox.jsonl');
  const stored = await readJson<LocalSecrets>(secretsFile);
  const secrets: LocalSecrets = stored ?? {
    tagSecret: randomBytes(32).toString('base64url'),
    adminToken: `chirp_admin_${randomBytes(24).toString('base64url')}`,
  };
  const dynamo = await startEmbeddedDynamo({ path: join(options.dataDir, 'ddb') });
  const log = createLogger('chirp-local', options.logLevel ?? 'WARN');
  const phone = new SimulatedPhone(log);
  const push =
    options.push ??
    createOutboxPushSender({ file: outboxFile, clock, ...(options.onOutboxLine ? { onLine: options.onOutboxLine } : {}) });
  const composed = composeDeps({
    client: dynamo.client,
    activityTable: dynamo.tables.activity,
    keyTable: dynamo.tables.key,
    push,
    log,
    tagSecret: secrets.tagSecret,
    bundleId: options.bundleId ?? 'com.example.chirp',
    clock,
    onSent: (message: PushMessage) => phone.onPushSent(message),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.replicateApiBase ? { replicateApiBase: options.replicateApiBase } : {}),
    ...(options.startBudget ? { startBudget: options.startBudget } : {}),
  });
  // publicUrl: webhook URLs handed out by the API point at the tunnel, not at 127.0.0.1.
  const deps: ApiDeps = { ...composed, adminToken: secrets.adminToken, ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/+$/, '') } : {}) };
  const depsPromise = Promise.resolve(deps);
  const app = createApp(log);
  addWebhookRoutes(app, () => depsPromise);
  addApiRoutes(app, () => depsPromise);
  options.extraRoutes?.(app, () => depsPromise);

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }) as Server;
    s.once('error', reject);
    s.once('listening', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const listenUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  const url = (options.publicUrl ?? listenUrl).replace(/\/+$/, '');
  phone.connect(listenUrl);

  const firstStart = secrets.demo === undefined;
  if (!secrets.demo) {
    // First start: a simulated iPhone and a demo inspector bound to it, so a webhook shows pushes at once.
    const { device, secret } = await registerDevice(deps, {
      name: 'Simulated iPhone',
      environment: 'sandbox',
      pushToStartToken: randomBytes(32).toString('hex'),
      frequentPushesEnabled: true,
      simulated: true,
    });
    const { inspector, key } = await createInspector(deps, { name: 'Demo', deviceIds: [device.id] });
    secrets.demo = { inspectorId: inspector.id, name: inspector.name, key, deviceId: device.id, deviceName: device.name, deviceSecret: secret };
  }
  await writePrivateJson(secretsFile, secrets);
  phone.addDevice(secrets.demo.deviceId, secrets.demo.deviceSecret);

  const localJson: LocalJson = {
    url,
    adminToken: secrets.adminToken,
    inspectors: [{ id: secrets.demo.inspectorId, name: secrets.demo.name, webhookUrl: webhookUrlFor(url, secrets.demo.key) }],
    devices: [{ id: secrets.demo.deviceId, name: secrets.demo.deviceName }],
  };
  await writePrivateJson(join(options.dataDir, 'local.json'), localJson);

  // The sweeper on a timer, like the EventBridge schedule in AWS. One pass at a time: a tick that
  // finds the previous pass still running skips (passes may overlap safely, but need not).
  let sweeping: Promise<void> | undefined;
  const sweepTimer =
    options.sweepIntervalSeconds === undefined || options.sweepIntervalSeconds <= 0
      ? undefined
      : setInterval(() => {
          sweeping ??= runSweep(composed.sweep)
            .then(
              (result) => {
                if (result.visited > 0) log.info('sweep finished', { ...result });
              },
              (err: unknown) => log.error('sweep failed', { error: err instanceof Error ? err.message : String(err) }),
            )
            .finally(() => {
              sweeping = undefined;
            });
        }, options.sweepIntervalSeconds * 1000);
  sweepTimer?.unref();

  return {
    url,
    port,
    dataDir: options.dataDir,
    outboxFile,
    localJson,
    deps,
    dynamo,
    firstStart,
    settle: () => phone.idle(),
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      await sweeping;
      await phone.idle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await push.close?.();
      await dynamo.close();
    },
  };
}
