/**
 * `npm start`: Chirp on this machine. Reads PORT, HOST, CHIRP_DATA_DIR, CHIRP_PUBLIC_URL,
 * CHIRP_PUSH_TRANSPORT (outbox | apns) and, for apns, APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID,
 * APNS_BUNDLE_ID, APNS_ENDPOINT, APNS_CA_FILE (extra CA certificates to trust for APNS_ENDPOINT: a
 * test server or a private relay, never needed for Apple); CHIRP_PUSH_TO_START_MAX and
 * CHIRP_PUSH_TO_START_WINDOW_MINUTES (push-to-start budget per device); CHIRP_SWEEP_INTERVAL_S (default 60, 0 = no timer) and
 * REPLICATE_API_BASE for the sweeper.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, ENV, oneOf, optionalEnv, readStartBudget, requireEnv } from '../lambda/config';
import { DEFAULT_START_BUDGET, START_BUDGET_LIMITS } from '../lambda/core/start-pacing';
import type { PushSender } from '../lambda/core/push-port';
import type { OutboxLine } from '../lambda/adapters/push/outbox-push-sender';
import { startLocalServer, type LocalServerOptions } from '../local/local-server';
import { formatBanner, formatOutboxLine } from '../local/terminal';

async function pushFromEnv(env: NodeJS.ProcessEnv): Promise<{ push?: PushSender; bundleId?: string }> {
  const transport = oneOf(env, ENV.pushTransport, ['outbox', 'apns'] as const, 'outbox');
  if (transport === 'outbox') return {};
  const keyFile = requireEnv(env, 'APNS_KEY_FILE');
  const { createApnsPushSender } = await import('../lambda/adapters/push/apns-push-sender');
  const endpoint = optionalEnv(env, ENV.apnsEndpoint);
  const caFile = optionalEnv(env, ENV.apnsCaFile);
  const push = createApnsPushSender({
    keyPem: await readFile(keyFile, 'utf8'),
    keyId: requireEnv(env, ENV.apnsKeyId),
    teamId: requireEnv(env, ENV.apnsTeamId),
    ...(endpoint ? { endpoint } : {}),
    // Added to the public roots, never replacing them; verification stays on.
    ...(caFile ? { extraCaPem: await readFile(caFile, 'utf8') } : {}),
  });
  return { push, bundleId: requireEnv(env, ENV.bundleId) };
}

async function main(): Promise<void> {
  const env = process.env;
  // The AWS SDK warns on every start under Node 20 that its releases after January 2027 need
  // Node 22; the lock file pins this release, and the README says which Node to use.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const port = Number(optionalEnv(env, 'PORT') ?? '8787');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number (got "${env.PORT}")`);
  const sweepInterval = Number(optionalEnv(env, 'CHIRP_SWEEP_INTERVAL_S') ?? '60');
  if (!Number.isFinite(sweepInterval) || sweepInterval < 0) {
    throw new ConfigError(`CHIRP_SWEEP_INTERVAL_S must be a number of seconds, 0 to turn the sweeper off (got "${env.CHIRP_SWEEP_INTERVAL_S}")`);
  }
  const { push, bundleId } = await pushFromEnv(env);
  const startBudget = readStartBudget(env);
  const options: LocalServerOptions = {
    dataDir: resolve(optionalEnv(env, 'CHIRP_DATA_DIR') ?? '.chirp'),
    port,
    host: optionalEnv(env, 'HOST') ?? '127.0.0.1',
    onOutboxLine: (line: OutboxLine) => process.stdout.write(`${formatOutboxLine(line)}\n`),
    sweepIntervalSeconds: sweepInterval,
  };
  const replicateApiBase = optionalEnv(env, ENV.replicateApiBase);
  if (replicateApiBase) options.replicateApiBase = replicateApiBase;
  const publicUrl = optionalEnv(env, 'CHIRP_PUBLIC_URL');
  if (publicUrl) options.publicUrl = publicUrl;
  if (push) options.push = push;
  // Apple's push-to-start budget binds real iPhones. With the outbox (the simulated phone) the
  // default is the most the setting allows, so trying the simulator a dozen times in an hour
  // does not stop cards from starting; with CHIRP_PUSH_TRANSPORT=apns it is the real default.
  if (startBudget) options.startBudget = startBudget;
  else if (!push) options.startBudget = { maxStarts: START_BUDGET_LIMITS.maxStarts.max, windowSeconds: DEFAULT_START_BUDGET.windowSeconds };
  if (bundleId) options.bundleId = bundleId;
  const level = optionalEnv(env, 'LOG_LEVEL')?.toUpperCase();
  if (level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR') options.logLevel = level;

  const server = await startLocalServer(options);
  process.stdout.write(formatBanner(server, push ? 'apns' : 'outbox'));

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping Chirp…\n');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`chirp: ${message}\n`);
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') process.stderr.write('Another program uses that port: set PORT=… to pick another.\n');
  process.exit(1);
});
