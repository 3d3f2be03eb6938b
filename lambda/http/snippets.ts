/**
 * Ready-to-paste prediction calls for a new webhook URL: the URL alone is not enough, because
 * without `webhook_events_filter` Replicate sends every event type by default and people who set
 * it by hand often forget `start` (no card until the end) or `output`/`logs` (no live detail).
 */
export const WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'] as const;

const EXAMPLE_MODEL = 'black-forest-labs/flux-schnell';
const EXAMPLE_PROMPT = 'a hummingbird made of glass';

function shellSingleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function predictionSnippets(webhookUrl: string): { curl: string; javascript: string; python: string } {
  const events = JSON.stringify(WEBHOOK_EVENTS);
  const eventsSpaced = `[${WEBHOOK_EVENTS.map((e) => `"${e}"`).join(', ')}]`;
  const body = JSON.stringify({ input: { prompt: EXAMPLE_PROMPT }, webhook: webhookUrl, webhook_events_filter: WEBHOOK_EVENTS });
  const curl = [
    `curl -sS -X POST https://api.replicate.com/v1/models/${EXAMPLE_MODEL}/predictions \\`,
    '  -H "Authorization: Bearer $REPLICATE_API_TOKEN" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d ${shellSingleQuoted(body)}`,
  ].join('\n');
  const javascript = [
    'import Replicate from "replicate";',
    '',
    'const replicate = new Replicate();',
    'const prediction = await replicate.predictions.create({',
    `  model: "${EXAMPLE_MODEL}",`,
    `  input: { prompt: "${EXAMPLE_PROMPT}" },`,
    `  webhook: ${JSON.stringify(webhookUrl)},`,
    `  webhook_events_filter: ${eventsSpaced},`,
    '});',
  ].join('\n');
  const python = [
    'import replicate',
    '',
    'prediction = replicate.predictions.create(',
    `    model="${EXAMPLE_MODEL}",`,
    `    input={"prompt": "${EXAMPLE_PROMPT}"},`,
    `    webhook=${JSON.stringify(webhookUrl)},`,
    `    webhook_events_filter=${events.replace(/,/g, ', ')},`,
    ')',
  ].join('\n');
  return { curl, javascript, python };
}
