/**
 * `npm run bench`: measures the budgets of ARCHITECTURE §3 and writes bench/results.json as flat
 * numbers so runs can be compared. DynamoDB requests are counted by an SDK middleware (not
 * estimated); write units come from ReturnConsumedCapacity, which dynalite reports like the
 * service (it does not add index write units: the note below says what that means).
 * Everything runs on loopback, bounded in count and time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { composeDeps } from '../lambda/compose';
import { activityIdFor } from '../lambda/core/activity';
import { registerActivityToken } from '../lambda/core/activity-token';
import { createInspector, registerDevice } from '../lambda/core/directory';
import { generateCredential } from '../lambda/core/inspector-key';
import { ingestWebhook, type IngestDeps } from '../lambda/core/ingest-webhook';
import { silentLog } from '../lambda/core/log';
import type { PushMessage, PushSender } from '../lambda/core/push-port';
import { startEmbeddedDynamo } from '../local/embedded-dynamo';
import { startLocalServer } from '../local/local-server';

interface Counter {
  reads: number;
  writes: number;
  writeUnits: number;
  total: number;
}

const READS = new Set(['GetItem', 'Query', 'BatchGetItem', 'Scan']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/** Counts requests and asks DynamoDB for the write units each write consumed. */
function instrument(client: DynamoDBDocumentClient, counter: Counter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      if (WRITES.has(operation)) input.ReturnConsumedCapacity = 'TOTAL';
      counter.total += 1;
      if (READS.has(operation)) counter.reads += 1;
      if (WRITES.has(operation)) counter.writes += 1;
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      if (WRITES.has(operation)) counter.writeUnits += consumed?.CapacityUnits ?? 0;
      return result;
    },
    { step: 'initialize', name: 'benchCounter' },
  );
}

function countingPush(): PushSender & { sent: PushMessage[] } {
  const sent: PushMessage[] = [];
  return { transport: 'outbox', sent, async send(message) { sent.push(message); return { outcome: 'sent', transport: 'outbox' }; } };
}

function prediction(id: string, status: string, output: string[] | null, extra: Record<string, unknown> = {}): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      id,
      model: 'meta/meta-llama-3-8b-instruct',
      version: 'hidden',
      input: { prompt: 'Tell me a story', max_new_tokens: 256 },
      urls: { get: `https://api.replicate.com/v1/predictions/${id}`, web: `https://replicate.com/p/${id}` },
      created_at: '2026-06-01T12:00:00.000000Z',
      started_at: status === 'starting' ? null : '2026-06-01T12:00:00.500000Z',
      status,
      output,
      logs: '',
      error: null,
      metrics: {},
      ...extra,
    }),
  );
}

async function measureStore(): Promise<Record<string, number>> {
  const dynamo = await startEmbeddedDynamo();
  const counter: Counter = { reads: 0, writes: 0, writeUnits: 0, total: 0 };
  const client = dynamo.newClient();
  instrument(client, counter);
  let now = Date.parse('2026-06-01T12:00:00Z');
  const push = countingPush();
  const deps: IngestDeps = composeDeps({ client, activityTable: dynamo.tables.activity, keyTable: dynamo.tables.key, push, log: silentLog, tagSecret: 'bench-tag-secret', bundleId: 'com.example.chirp', clock: () => now });
  const directory = { keys: deps.keys, random: (n: number) => randomBytes(n), clock: () => now, tagSecret: 'bench-tag-secret' };
  const { device } = await registerDevice(directory, { name: 'bench phone', environment: 'sandbox', pushToStartToken: 'ab'.repeat(32) });
  const { inspector, key } = await createInspector(directory, { name: 'bench', deviceIds: [device.id] });

  // Warm the container: the first webhook pays the key and inspector lookups.
  await ingestWebhook(deps, { key, rawBody: prediction('warmup', 'starting', null), headers: { 'webhook-id': 'msg_warm' } });

  // A 60 s streaming prediction with 120 output events, then completion, on a warm container.
  Object.assign(counter, { reads: 0, writes: 0, writeUnits: 0, total: 0 });
  push.sent.length = 0;
  const jobId = 'streamingjob';
  let webhooks = 0;
  await ingestWebhook(deps, { key, rawBody: prediction(jobId, 'starting', null), headers: { 'webhook-id': 'msg_s' } });
  webhooks += 1;
  const tokens: string[] = [];
  for (let i = 0; i < 120; i++) {
    now += 500;
    tokens.push(` token${i}`);
    await ingestWebhook(deps, { key, rawBody: prediction(jobId, 'processing', [...tokens]), headers: { 'webhook-id': `msg_o${i}` } });
    webhooks += 1;
    if (i === 0) {
      // The phone reports the update token right after the start (through the API, in production).
      const before = { ...counter };
      await registerActivityToken(deps, { deviceId: device.id, activityId: activityIdFor(inspector.id, jobId), token: 'ef'.repeat(40) });
      Object.assign(counter, before);
    }
  }
  now += 500;
  await ingestWebhook(deps, { key, rawBody: prediction(jobId, 'succeeded', [...tokens], { completed_at: '2026-06-01T12:01:01Z' }), headers: { 'webhook-id': 'msg_done' } });
  webhooks += 1;
  const pushes = push.sent.length;
  const lastPush = push.sent[push.sent.length - 1];
  const perWebhook = { reads: counter.reads / webhooks, writes: counter.writes / webhooks, units: counter.writeUnits / webhooks };

  // A short job (start and completion only): the start's push-to-start budget write weighs more.
  Object.assign(counter, { reads: 0, writes: 0, writeUnits: 0, total: 0 });
  now += 60_000;
  await ingestWebhook(deps, { key, rawBody: prediction('shortjob', 'starting', null), headers: { 'webhook-id': 'msg_short_s' } });
  now += 5_000;
  await ingestWebhook(deps, { key, rawBody: prediction('shortjob', 'succeeded', ['done'], { completed_at: '2026-06-01T12:02:05Z' }), headers: { 'webhook-id': 'msg_short_done' } });
  const shortJobWrites = counter.writes / 2;

  // A duplicate delivery of the completion.
  Object.assign(counter, { reads: 0, writes: 0, writeUnits: 0, total: 0 });
  const before = push.sent.length;
  await ingestWebhook(deps, { key, rawBody: prediction(jobId, 'succeeded', [...tokens], { completed_at: '2026-06-01T12:01:01Z' }), headers: { 'webhook-id': 'msg_done' } });
  const duplicateRequests = counter.total;
  const duplicatePushes = push.sent.length - before;

  // A flood of forged keys: random, malformed, and well-formed with a wrong tag.
  Object.assign(counter, { reads: 0, writes: 0, writeUnits: 0, total: 0 });
  const forged = 1000;
  for (let i = 0; i < forged; i++) {
    const candidates = [`chirp_wh_${randomBytes(16).toString('base64url').slice(0, 22)}_${randomBytes(6).toString('base64url').slice(0, 8)}`, randomBytes(20).toString('hex'), generateCredential('wh', randomBytes(32), 'someone-elses-secret')];
    await ingestWebhook(deps, { key: candidates[i % 3], rawBody: prediction('x', 'starting', null), headers: {} }).catch(() => undefined);
  }
  const forgedRequests = counter.total / forged;

  // The store's raw write rate, for comparison with the HTTP rate below.
  const raw = await rawWriteRate(dynamo.newClient(), dynamo.tables.activity);
  await dynamo.close();
  return {
    dynamo_reads_per_webhook: round(perWebhook.reads),
    dynamo_writes_per_webhook: round(perWebhook.writes),
    dynamo_write_units_per_webhook: round(perWebhook.units),
    dynamo_writes_per_webhook_short_job: round(shortJobWrites),
    dynamo_requests_per_duplicate: duplicateRequests,
    pushes_per_duplicate: duplicatePushes,
    dynamo_requests_per_forged_key: forgedRequests,
    pushes_per_streaming_job: pushes,
    streaming_job_last_push_is_final: lastPush?.kind === 'end' && lastPush.payload.aps['content-state'].status === 'succeeded' ? 1 : 0,
    store_raw_writes_per_second: raw,
  };
}

async function rawWriteRate(client: DynamoDBDocumentClient, table: string): Promise<number> {
  const seconds = 3;
  const until = Date.now() + seconds * 1000;
  let writes = 0;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < until; i++) {
      await client.send(new PutCommand({ TableName: table, Item: { pk: `RAW#${w}#${i}`, sk: 'STATE', payload: 'x'.repeat(600) } }));
      writes += 1;
    }
  };
  await Promise.all(Array.from({ length: 10 }, (_, w) => worker(w)));
  return Math.round(writes / seconds);
}

async function measureHttp(): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chirp-bench-'));
  // The per-inspector rate limit (50/s) would answer most of this load with 429: lift it to
  // measure what the server itself sustains.
  const server = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT', push: countingPush(), rateLimit: { ratePerSecond: 1e6, burst: 1e6 } });
  try {
    let n = 0;
    const result = await autocannon({
      url: server.localJson.inspectors[0]!.webhookUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      connections: 10,
      duration: 5,
      requests: [
        {
          // 50 predictions streaming at once, each delivery a longer snapshot of one of them:
          // the common case (output events of running jobs), after their starts.
          setupRequest: (request) => {
            n += 1;
            const job = n % 50;
            const outputs = Math.floor(n / 50) + 1;
            const body = Buffer.from(prediction(`bench${job}`, 'processing', Array.from({ length: outputs }, (_, i) => ` t${i}`))).toString('utf8');
            return { ...request, headers: { ...request.headers, 'webhook-id': `msg_bench_${n}` }, body };
          },
        },
      ],
    });
    const ok = result['2xx'];
    if (result.non2xx > 0 || result.errors > 0) process.stderr.write(`warning: ${result.non2xx} non-2xx and ${result.errors} errors during the HTTP run\n`);
    return Math.round(ok / 5);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function bundleBytes(): Promise<number> {
  const result = await build({
    entryPoints: [join(__dirname, '../lambda/handlers/webhook.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    define: { 'process.env.CHIRP_PUSH_TRANSPORT': '"sns"' },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

async function main(): Promise<void> {
  const store = await measureStore();
  const webhooksPerSecond = await measureHttp();
  const results: Record<string, number> = { ...store, webhooks_per_second: webhooksPerSecond, webhook_bundle_bytes: await bundleBytes() };
  const budgets: Record<string, string> = {
    dynamo_reads_per_webhook: '≤ 1 (goal 0)',
    dynamo_writes_per_webhook: '≤ 2 (goal 1)',
    dynamo_write_units_per_webhook: '≤ 2',
    dynamo_writes_per_webhook_short_job: '(start + completed only)',
    dynamo_requests_per_duplicate: '≤ 1',
    pushes_per_duplicate: '0',
    dynamo_requests_per_forged_key: '0',
    pushes_per_streaming_job: '≤ 14',
    streaming_job_last_push_is_final: '1 (yes)',
    webhook_bundle_bytes: '≤ 153600',
  };
  const rows = Object.entries(results).map(([k, v]) => `  ${k.padEnd(36)} ${String(v).padStart(10)}   ${budgets[k] ?? ''}`);
  process.stdout.write(`\nChirp bench (${new Date().toISOString()}, node ${process.version})\n\n  ${'metric'.padEnd(36)} ${'value'.padStart(10)}   budget\n${rows.join('\n')}\n\n`);
  process.stdout.write('  Note: dynalite does not bill index writes. The sweep index key changes only when an activity\n  opens, gets an earlier due time, or closes, not on every webhook.\n\n');
  await writeFile(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write('  wrote bench/results.json\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
