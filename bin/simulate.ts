/**
 * `npm run simulate -- --url <webhook url> [--stream] [--secret whsec_…] [--outcome failed]`
 * Sends a realistic Replicate prediction lifecycle to a Chirp webhook URL.
 * Node's own `util.parseArgs` is enough for this handful of flags.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateReplicateLifecycle } from '../local/replicate-simulator';

const USAGE = `Usage: npm run simulate -- [--url <webhook url>] [--stream] [--secret whsec_…]
                            [--outcome succeeded|failed|canceled] [--interval-ms 500] [--steps N]
Without --url, uses the demo inspector from $CHIRP_DATA_DIR/local.json (default .chirp).`;

function defaultUrl(): string {
  const file = join(process.env.CHIRP_DATA_DIR ?? '.chirp', 'local.json');
  try {
    const local = JSON.parse(readFileSync(file, 'utf8')) as { inspectors?: { webhookUrl?: string }[] };
    const url = local.inspectors?.[0]?.webhookUrl;
    if (url) return url;
  } catch {
    // fall through to the usage error
  }
  throw new Error(`no --url given and no webhook URL in ${file}: start Chirp with \`npm start\` first`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      stream: { type: 'boolean', default: false },
      secret: { type: 'string' },
      outcome: { type: 'string', default: 'succeeded' },
      'interval-ms': { type: 'string', default: '500' },
      steps: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const outcome = values.outcome;
  if (outcome !== 'succeeded' && outcome !== 'failed' && outcome !== 'canceled') throw new Error(`--outcome must be succeeded, failed or canceled\n${USAGE}`);
  const intervalMs = Number(values['interval-ms']);
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new Error('--interval-ms must be a number of milliseconds');
  if (values.secret && !values.secret.startsWith('whsec_')) throw new Error('--secret must be a Replicate signing secret (whsec_…)');
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  const url = values.url ?? defaultUrl();
  const deliveries = await simulateReplicateLifecycle({
    url,
    stream: values.stream,
    outcome,
    intervalMs,
    ...(steps === undefined ? {} : { steps }),
    ...(values.secret ? { secret: values.secret } : {}),
    onDelivery: (d) => process.stdout.write(`${d.status.padEnd(10)} ${d.httpStatus}  ${d.response}\n`),
  });
  const failed = deliveries.filter((d) => d.httpStatus >= 300);
  process.stdout.write(`${deliveries.length} webhooks sent, ${failed.length} rejected\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
