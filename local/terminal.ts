/**
 * What `npm start` prints: the banner with the webhook URL and ready-to-paste commands, and one
 * line per push as it would reach the phone.
 */
import { relative } from 'node:path';
import type { OutboxLine } from '../lambda/adapters/push/outbox-push-sender';
import type { LocalServer } from './local-server';

const tty = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const blue = paint('34');
const grey = paint('90');

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function demoCurl(webhookUrl: string): string {
  const body = JSON.stringify({
    id: 'demo-prediction-1',
    model: 'black-forest-labs/flux-schnell',
    status: 'starting',
    created_at: new Date().toISOString(),
    urls: { web: 'https://replicate.com/p/demo-prediction-1' },
  });
  return `curl -sS -X POST ${shellQuote(webhookUrl)} \\\n    -H 'content-type: application/json' \\\n    -d ${shellQuote(body)}`;
}

export function formatBanner(server: LocalServer, transport: 'outbox' | 'apns'): string {
  const demo = server.localJson.inspectors[0]!;
  const device = server.localJson.devices[0]!;
  const where = relative(process.cwd(), server.dataDir) || '.';
  const lines = [
    '',
    `  ${bold('Chirp')} is running at ${bold(server.url)}`,
    '',
    `  Webhook URL for inspector "${demo.name}" (bound to "${device.name}"):`,
    `    ${bold(demo.webhookUrl)}`,
    '',
    `  Paste it into a Replicate prediction's ${bold('webhook')} field, with`,
    `    webhook_events_filter: ["start", "output", "logs", "completed"]`,
    '',
    '  Or play a realistic prediction right now:',
    `    npm run simulate -- --url ${shellQuote(demo.webhookUrl)} --stream`,
    '',
    '  Or send one webhook by hand:',
    `    ${demoCurl(demo.webhookUrl)}`,
    '',
    transport === 'outbox'
      ? `  Pushes that would reach the phone appear below and in ${bold(`${where}/outbox.jsonl`)}.`
      : '  Pushes go to APNs (CHIRP_PUSH_TRANSPORT=apns).',
    `  Admin token and URLs for the CLI: ${where}/local.json${server.firstStart ? ' (created now)' : ''}`,
    dim('  Replicate must reach this URL: for real predictions, expose it with a tunnel and set CHIRP_PUBLIC_URL.'),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

export function formatOutboxLine(line: OutboxLine): string {
  const state = line.payload.aps['content-state'];
  const word = state.status === 'processing' ? 'RUNNING' : state.status.toUpperCase();
  const color = state.status === 'succeeded' ? green : state.status === 'failed' ? red : ['canceled', 'aborted', 'expired'].includes(state.status) ? grey : blue;
  const model = line.payload.aps.attributes?.model;
  const parts = [
    dim(line.at.slice(11, 19)),
    bold(`push ${line.kind.padEnd(6)}`),
    color(`Replicate · ${word}`),
    ...(model ? [model] : []),
    line.jobId,
    ...(state.progress !== undefined ? [`${Math.round(state.progress * 100)}%`] : []),
    ...(state.detail ? [JSON.stringify(state.detail)] : []),
    dim(`→ ${line.target.deviceId} p${line.headers['apns-priority']} ${line.bytes} B`),
  ];
  return parts.join('  ');
}
