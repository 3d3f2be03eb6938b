/**
 * The `chirp` command line: thin commands over the HTTP API (the same routes the web inspector
 * uses). Exit codes: 0 done, 1 the server or the environment refused (the server's message is
 * printed), 2 the command line itself is wrong.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ActivityView, DeviceView, EventView, InspectorCreated, InspectorRotated, InspectorView, TestJobResultView } from '../lambda/http/schemas';
import { readCredentials, resolveProfile, writeCredentials, type Profile } from './config';
import { CliError, UsageError } from './errors';
import { activityRows, ago, eventLine, inspectorDetails, inspectorRows, table } from './format';
import { ApiClient } from './http';
import { stackCredentials } from './stack-login';
import { version } from '../package.json';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Reads all of stdin (`--token -`). */
  readStdin(): Promise<string>;
  sleep(ms: number): Promise<void>;
  fetch: typeof fetch;
}

interface Page<T> {
  items: T[];
  cursor?: string;
}

const EVENT_OUTCOMES = ['applied', 'duplicate', 'stale', 'rejected', 'reconciled', 'expired', 'flushed', 'token'];
const STATUSES = ['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'];

// ───────────────────────────── argument parsers ─────────────────────────────

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number.');
  return Number(value);
}

/** "90s", "30m", "24h", "7d", "500ms" or plain seconds → milliseconds. */
export function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a duration like 30s, 10m, 24h or 7d.');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function commaChoices(allowed: readonly string[]) {
  return (value: string): string => {
    const bad = value.split(',').filter((v) => !allowed.includes(v));
    if (bad.length > 0) throw new InvalidArgumentError(`unknown ${bad.join(', ')}; use ${allowed.join(', ')} (comma-separated).`);
    return value;
  };
}

/** A time for `--since`: a duration back from now ("10m") or an ISO-8601 time. */
function sinceTime(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(Date.parse(value))) return new Date(Date.parse(value)).toISOString();
  return new Date(Date.now() - durationMs(value)).toISOString();
}

// ───────────────────────────── the program ─────────────────────────────

export function buildProgram(io: CliIO): Command {
  const program = new Command('chirp');
  program
    .description('Chirp: Replicate webhooks → iOS Live Activity cards. Manage inspectors and devices, watch events, send test cards.')
    .option('--profile <name>', 'credentials profile to use (default: the one `chirp login` saved last)')
    .version(version, '-V, --version')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(chirp --help shows usage)')
    .showSuggestionAfterError();

  const client = async (): Promise<ApiClient> => new ApiClient(await resolveProfile(program.opts<{ profile?: string }>().profile, io.env), io.fetch);
  const print = (text: string): void => {
    if (text !== '') io.stdout(`${text}\n`);
  };
  const printJson = (value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  const jsonOption = () => new Option('--json', 'print the API response as JSON');
  const enc = encodeURIComponent;

  async function pickInspector(api: ApiClient, id: string | undefined): Promise<InspectorView> {
    if (id) return api.request<InspectorView>('GET', `/v1/inspectors/${enc(id)}`);
    const page = await api.request<Page<InspectorView>>('GET', '/v1/inspectors?limit=100');
    if (page.items.length === 1) return page.items[0]!;
    if (page.items.length === 0) throw new CliError('No inspectors yet: create one with `chirp inspectors create <name>`.');
    throw new UsageError(`There are several inspectors; pick one with --inspector: ${page.items.map((i) => `${i.id} ("${i.name}")`).join(', ')}`);
  }

  function printNewKey(created: InspectorCreated | InspectorRotated, heading: string): void {
    print(heading);
    print('');
    print('Webhook URL (shown once: copy it now):');
    print(`  ${created.webhookUrl}`);
    print('');
    if ('previousKeyValidUntil' in created) print(`The old key keeps working until ${new Date(created.previousKeyValidUntil * 1000).toISOString()}.`);
    print(created.devices.length > 0 ? `Cards go to: ${created.devices.map((d) => d.name ?? d.id).join(', ')}` : 'No devices bound yet: `chirp inspectors set <id> --device <device id>` (see `chirp devices list`).');
    print('Use it with webhook_events_filter: ["start", "output", "logs", "completed"]. Snippets (curl, JavaScript, Python): add --json.');
  }

  // ── login / logout ──
  program
    .command('login')
    .description('save credentials: `login <url> --token <admin token>`, `login --local`, or `login --stack <name>`')
    .argument('[url]', 'the Chirp API URL (ApiUrl stack output, or http://127.0.0.1:8787)')
    .option('--token <token>', 'the admin token ("-" reads it from stdin, which keeps it out of shell history)')
    .option('--local', 'use the server `npm start` runs (reads local.json)')
    .option('--data-dir <dir>', 'local mode data directory', io.env.CHIRP_DATA_DIR ?? '.chirp')
    .option('--stack <name>', 'a deployed stack: URL from its outputs, token from Secrets Manager (your AWS credentials)')
    .option('--region <region>', 'AWS region of the stack (default: your AWS configuration)')
    .option('--no-verify', 'save without checking the credentials against the server')
    .action(async (url: string | undefined, opts: { token?: string; local?: boolean; dataDir: string; stack?: string; region?: string; verify: boolean }) => {
      const modes = [url !== undefined, opts.local === true, opts.stack !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new UsageError('Give exactly one of: <url> --token <token>, --local, --stack <name>.');
      let profile: Profile;
      if (opts.local) {
        const file = resolve(opts.dataDir, 'local.json');
        let local: { url?: string; adminToken?: string; inspectors?: { webhookUrl?: string }[] };
        try {
          local = JSON.parse(await readFile(file, 'utf8')) as typeof local;
        } catch (err) {
          throw new CliError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `No ${file}: start the local server with \`npm start\` first (or pass --data-dir).` : `Cannot read ${file}: ${(err as Error).message}`);
        }
        if (!local.url || !local.adminToken) throw new CliError(`${file} has no url or adminToken.`);
        profile = { url: local.url, adminToken: local.adminToken, source: 'local', ...(local.inspectors?.[0]?.webhookUrl ? { webhookUrl: local.inspectors[0].webhookUrl } : {}) };
      } else if (opts.stack) {
        const found = await stackCredentials(opts.stack, opts.region);
        profile = { ...found, source: 'stack', stackName: opts.stack, ...(opts.region ? { region: opts.region } : {}) };
      } else {
        let token = opts.token ?? io.env.CHIRP_ADMIN_TOKEN;
        if (token === '-') token = (await io.readStdin()).trim();
        if (!token) throw new UsageError('Give the admin token: --token <token> (or --token - to read it from stdin).');
        if (!/^https?:\/\/[^\s/]+/.test(url!)) throw new UsageError(`"${url}" is not an http(s) URL.`);
        profile = { url: url!.replace(/\/+$/, ''), adminToken: token, source: 'url' };
      }
      if (opts.verify) await new ApiClient(profile, io.fetch).request('GET', '/v1/inspectors?limit=1');
      const name = program.opts<{ profile?: string }>().profile ?? 'default';
      const credentials = await readCredentials(io.env);
      credentials.profiles[name] = profile;
      credentials.current = name;
      const file = await writeCredentials(credentials, io.env);
      print(`Logged in to ${profile.url} as profile "${name}" (saved in ${file}).`);
    });

  program
    .command('logout')
    .description('forget the saved credentials of a profile')
    .action(async () => {
      const name = program.opts<{ profile?: string }>().profile;
      const credentials = await readCredentials(io.env);
      const target = name ?? credentials.current;
      if (!credentials.profiles[target]) throw new CliError(`No profile "${target}".`);
      delete credentials.profiles[target];
      credentials.current = Object.keys(credentials.profiles)[0] ?? 'default';
      await writeCredentials(credentials, io.env);
      print(`Forgot profile "${target}".`);
    });

  // ── inspectors ──
  const inspectors = program.command('inspectors').description('create, list, show, change, rotate and revoke inspectors (webhook keys bound to devices)');

  inspectors
    .command('create')
    .description('create an inspector; prints its webhook URL (the key is shown only this once)')
    .argument('<name>', 'a name people recognise: a team, a job type')
    .option('-d, --device <id>', 'bind a device (repeatable)', collect)
    .option('--all-devices', 'bind every registered device')
    .option('--signing-secret <whsec>', 'Replicate webhook signing secret; signatures are then required (repeatable)', collect)
    .option('--replicate-token <token>', 'Replicate API token, to reconcile jobs that went quiet')
    .option('--hang-timeout <minutes>', 'minutes without events before a card ends as expired', integer)
    .option('--coalesce <seconds>', 'minimum seconds between two update pushes of a card', integer)
    .option('--retention <days>', 'days the events log keeps entries', integer)
    .option('--keep-last <n>', 'events log keeps at most this many entries', integer)
    .addOption(jsonOption())
    .action(async (name: string, opts: { device?: string[]; allDevices?: boolean; signingSecret?: string[]; replicateToken?: string; hangTimeout?: number; coalesce?: number; retention?: number; keepLast?: number; json?: boolean }) => {
      if (opts.device && opts.allDevices) throw new UsageError('Use --device or --all-devices, not both.');
      const api = await client();
      const deviceIds = opts.allDevices ? (await api.request<Page<DeviceView>>('GET', '/v1/devices?limit=100')).items.map((d) => d.id) : opts.device;
      const body: Record<string, unknown> = { name };
      if (deviceIds) body.deviceIds = deviceIds;
      if (opts.signingSecret) body.signingSecrets = opts.signingSecret;
      if (opts.replicateToken) body.replicateApiToken = opts.replicateToken;
      if (opts.hangTimeout !== undefined) body.hangTimeoutMinutes = opts.hangTimeout;
      if (opts.coalesce !== undefined) body.coalesceSeconds = opts.coalesce;
      if (opts.retention !== undefined) body.retentionDays = opts.retention;
      if (opts.keepLast !== undefined) body.keepLast = opts.keepLast;
      const created = await api.request<InspectorCreated>('POST', '/v1/inspectors', body);
      if (opts.json) printJson(created);
      else printNewKey(created, `Created inspector "${created.name}" (${created.id}).`);
    });

  inspectors
    .command('list')
    .description('list inspectors with their last event')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const items: InspectorView[] = [];
      const api = await client();
      let cursor: string | undefined;
      do {
        const page = await api.request<Page<InspectorView>>('GET', `/v1/inspectors?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`);
        items.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      if (opts.json) printJson({ items });
      else print(items.length === 0 ? 'No inspectors yet: chirp inspectors create <name>' : inspectorRows(items));
    });

  inspectors
    .command('show')
    .description('show one inspector (never its secrets)')
    .argument('<id>')
    .addOption(jsonOption())
    .action(async (id: string, opts: { json?: boolean }) => {
      const view = await (await client()).request<InspectorView>('GET', `/v1/inspectors/${enc(id)}`);
      if (opts.json) printJson(view);
      else print(inspectorDetails(view));
    });

  inspectors
    .command('set')
    .description('change settings; secrets are write-only')
    .argument('<id>')
    .option('--name <name>', 'rename')
    .option('-d, --device <id>', 'bound devices: replaces the list (repeatable)', collect)
    .option('--clear-devices', 'unbind every device')
    .option('--signing-secret <whsec>', 'signing secrets: replaces the list (repeatable)', collect)
    .option('--clear-signing-secrets', 'stop requiring signatures')
    .option('--replicate-token <token>', 'set the Replicate API token')
    .option('--clear-replicate-token', 'remove the Replicate API token')
    .option('--hang-timeout <minutes|default>', 'minutes without events before a card ends as expired ("default" restores it)', (v: string): number | 'default' => (v === 'default' ? v : integer(v)))
    .option('--coalesce <seconds>', 'minimum seconds between two update pushes', integer)
    .option('--retention <days>', 'days the events log keeps entries', integer)
    .option('--keep-last <n>', 'events log keeps at most this many entries', integer)
    .addOption(jsonOption())
    .action(async (id: string, opts: { name?: string; device?: string[]; clearDevices?: boolean; signingSecret?: string[]; clearSigningSecrets?: boolean; replicateToken?: string; clearReplicateToken?: boolean; hangTimeout?: number | 'default'; coalesce?: number; retention?: number; keepLast?: number; json?: boolean }) => {
      const conflict = ([a, b]: [unknown, unknown]) => a !== undefined && b !== undefined;
      if (conflict([opts.device, opts.clearDevices]) || conflict([opts.signingSecret, opts.clearSigningSecrets]) || conflict([opts.replicateToken, opts.clearReplicateToken])) {
        throw new UsageError('A setting and its --clear-… option cannot go together.');
      }
      const body: Record<string, unknown> = {};
      if (opts.name !== undefined) body.name = opts.name;
      if (opts.device) body.deviceIds = opts.device;
      if (opts.clearDevices) body.deviceIds = [];
      if (opts.signingSecret) body.signingSecrets = opts.signingSecret;
      if (opts.clearSigningSecrets) body.signingSecrets = [];
      if (opts.replicateToken) body.replicateApiToken = opts.replicateToken;
      if (opts.clearReplicateToken) body.replicateApiToken = null;
      if (opts.hangTimeout !== undefined) body.hangTimeoutMinutes = opts.hangTimeout === 'default' ? null : opts.hangTimeout;
      if (opts.coalesce !== undefined) body.coalesceSeconds = opts.coalesce;
      if (opts.retention !== undefined) body.retentionDays = opts.retention;
      if (opts.keepLast !== undefined) body.keepLast = opts.keepLast;
      if (Object.keys(body).length === 0) throw new UsageError('Nothing to change: give at least one option (chirp inspectors set --help).');
      const view = await (await client()).request<InspectorView>('PATCH', `/v1/inspectors/${enc(id)}`, body);
      if (opts.json) printJson(view);
      else print(`Updated.\n${inspectorDetails(view)}`);
    });

  inspectors
    .command('rotate')
    .description('new key and webhook URL; the old key keeps working for a grace period')
    .argument('<id>')
    .option('--grace <duration>', 'how long the old key keeps working (0 to 7d)', durationMs, 86_400_000)
    .addOption(jsonOption())
    .action(async (id: string, opts: { grace: number; json?: boolean }) => {
      const rotated = await (await client()).request<InspectorRotated>('POST', `/v1/inspectors/${enc(id)}/rotate`, { graceSeconds: Math.floor(opts.grace / 1000) });
      if (opts.json) printJson(rotated);
      else printNewKey(rotated, `Rotated the key of "${rotated.name}" (${rotated.id}).`);
    });

  inspectors
    .command('revoke')
    .description('revoke an inspector: every key of it stops working (cannot be undone)')
    .argument('<id>')
    .option('-y, --yes', 'do not ask (required when not interactive)')
    .action(async (id: string, opts: { yes?: boolean }) => {
      if (!opts.yes) throw new UsageError(`Revoking cannot be undone: run again with --yes (chirp inspectors revoke ${id} --yes).`);
      await (await client()).request('DELETE', `/v1/inspectors/${enc(id)}`);
      print(`Revoked ${id}: its webhook URLs now answer 401.`);
    });

  // ── devices ──
  const devices = program.command('devices').description('list and remove registered devices');

  devices
    .command('list')
    .description('list devices (never their tokens or credentials)')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const page = await (await client()).request<Page<DeviceView>>('GET', '/v1/devices?limit=100');
      if (opts.json) printJson(page);
      else print(page.items.length === 0 ? 'No devices: the iOS app registers itself.' : table(['ID', 'NAME', 'ENVIRONMENT', 'PUSH-TO-START', 'REGISTERED'], page.items.map((d) => [d.id, d.name + (d.simulated ? ' (simulated)' : ''), d.environment, d.hasPushToStartToken ? 'yes' : 'no', ago(d.createdAt * 1000)])));
    });

  devices
    .command('remove')
    .description('unregister a device')
    .argument('<id>')
    .option('-y, --yes', 'do not ask (required when not interactive)')
    .action(async (id: string, opts: { yes?: boolean }) => {
      if (!opts.yes) throw new UsageError(`Removing a device cannot be undone: run again with --yes (chirp devices remove ${id} --yes).`);
      await (await client()).request('DELETE', `/v1/devices/${enc(id)}`);
      print(`Removed device ${id}.`);
    });

  // ── events ──
  const events = program.command('events').description('the events log: every webhook, what it did to the card, and what the push transport answered');

  events
    .command('tail')
    .description('print recent events, oldest first; --follow keeps printing new ones')
    .option('-i, --inspector <id>', 'one inspector (default: all)')
    .option('--status <statuses>', `Replicate status, comma-separated (${STATUSES.join(', ')})`, commaChoices(STATUSES))
    .option('--outcome <outcomes>', `what the event did, comma-separated (${EVENT_OUTCOMES.join(', ')})`, commaChoices(EVENT_OUTCOMES))
    .option('--since <time>', 'only events since a duration ago (10m, 2h) or an ISO time', sinceTime)
    .option('-n, --lines <n>', 'how many recent events to print first', integer, 20)
    .option('-f, --follow', 'keep printing new events (Ctrl-C to stop)')
    .option('--interval <duration>', 'how often --follow asks (default 2s)', durationMs, 2000)
    .option('--json', 'one JSON object per line (NDJSON)')
    .action(async (opts: { inspector?: string; status?: string; outcome?: string; since?: string; lines: number; follow?: boolean; interval: number; json?: boolean }) => {
      const api = await client();
      const targets = opts.inspector ? [await api.request<InspectorView>('GET', `/v1/inspectors/${enc(opts.inspector)}`)] : (await api.request<Page<InspectorView>>('GET', '/v1/inspectors?limit=100')).items;
      const names = new Map(targets.flatMap((i) => i.devices.map((d) => [d.id, d.name ?? d.id] as [string, string])));
      const seen = new Set<string>();
      const key = (e: EventView) => [e.inspectorId, e.at, e.source, e.outcome, e.webhookId ?? '', e.activityId ?? '', e.status ?? ''].join('|');
      const fetchSince = async (since: string | undefined, limit: number): Promise<EventView[]> => {
        const pages = await Promise.all(
          targets.map((i) => {
            const params = new URLSearchParams({ limit: String(Math.min(200, Math.max(1, limit))) });
            if (opts.status) params.set('status', opts.status);
            if (opts.outcome) params.set('outcome', opts.outcome);
            if (since) params.set('since', since);
            return api.request<Page<EventView>>('GET', `/v1/inspectors/${enc(i.id)}/events?${params.toString()}`);
          }),
        );
        return pages.flatMap((p) => p.items).sort((a, b) => a.at - b.at);
      };
      const emit = (items: EventView[]): number => {
        let newest = 0;
        for (const e of items) {
          newest = Math.max(newest, e.at);
          if (seen.has(key(e))) continue;
          seen.add(key(e));
          io.stdout(`${opts.json ? JSON.stringify(e) : eventLine(e, names)}\n`);
        }
        return newest;
      };
      const first = (await fetchSince(opts.since, opts.lines)).slice(-opts.lines);
      let newest = emit(first);
      if (!opts.follow) {
        if (first.length === 0 && !opts.json) io.stderr('No events yet.\n');
        return;
      }
      if (newest === 0) newest = Date.now() - 1000;
      for (;;) {
        await io.sleep(opts.interval);
        // `since` is inclusive: events of the same millisecond come again and are skipped by key.
        newest = Math.max(newest, emit(await fetchSince(new Date(newest).toISOString(), 200)));
      }
    });

  // ── activities ──
  const activities = program.command('activities').description('cards: current and recent Live Activities');

  activities
    .command('list')
    .description('cards of an inspector with their state and per-device push state')
    .option('-i, --inspector <id>', 'the inspector (needed when there are several)')
    .addOption(new Option('--state <state>', 'which cards').choices(['active', 'ended', 'all']).default('all'))
    .option('-n, --limit <n>', 'how many', integer, 20)
    .addOption(jsonOption())
    .action(async (opts: { inspector?: string; state: string; limit: number; json?: boolean }) => {
      const api = await client();
      const inspector = await pickInspector(api, opts.inspector);
      const page = await api.request<Page<ActivityView>>('GET', `/v1/inspectors/${enc(inspector.id)}/activities?state=${opts.state}&limit=${Math.min(100, Math.max(1, opts.limit))}`);
      if (opts.json) printJson(page);
      else print(page.items.length === 0 ? `No cards for "${inspector.name}" yet: chirp test` : activityRows(page.items));
    });

  // ── test, sweep ──
  program
    .command('test')
    .description('send a synthetic prediction (start → processing → end) through the real pipeline to the bound devices')
    .option('-i, --inspector <id>', 'the inspector (needed when there are several)')
    .addOption(new Option('--outcome <outcome>', 'how the test job ends').choices(['succeeded', 'failed', 'canceled', 'running']).default('succeeded'))
    .option('--model <owner/name>', 'model name on the card')
    .addOption(jsonOption())
    .action(async (opts: { inspector?: string; outcome: string; model?: string; json?: boolean }) => {
      const api = await client();
      const inspector = await pickInspector(api, opts.inspector);
      const result = await api.request<TestJobResultView>('POST', `/v1/inspectors/${enc(inspector.id)}/test`, { outcome: opts.outcome, ...(opts.model ? { model: opts.model } : {}) });
      if (opts.json) return printJson(result);
      const names = new Map(inspector.devices.map((d) => [d.id, d.name ?? d.id] as [string, string]));
      print(`Test job ${result.jobId} → "${inspector.name}" (activity ${result.activityId})`);
      for (const step of result.steps) {
        const pushes = step.pushes.map((p) => `${p.kind}→${names.get(p.deviceId) ?? p.deviceId}:${p.outcome}${p.reason && p.outcome !== 'sent' ? ` (${p.reason})` : ''}`);
        print(`  ${step.status.padEnd(10)} ${step.outcome}${pushes.length > 0 ? `  ${pushes.join('  ')}` : ''}`);
      }
      if (inspector.devices.length === 0) print('No devices are bound to this inspector, so no pushes went out.');
      else if (opts.outcome !== 'running' && !result.steps.some((s) => s.pushes.some((p) => p.kind === 'end'))) {
        // Updates and the end go to the activity's update token, which the phone reports a moment after the start.
        print('The end push goes out as soon as the phone reports the card\'s update token (watch it with chirp events tail).');
      }
    });

  program
    .command('sweep')
    .description('run one sweeper pass now: end hung cards, reconcile with Replicate, flush coalesced updates')
    .option('--max <n>', 'visit at most this many due activities', integer)
    .addOption(jsonOption())
    .action(async (opts: { max?: number; json?: boolean }) => {
      const result = await (await client()).request<Record<string, unknown>>('POST', '/v1/admin/sweep', opts.max ? { maxActivities: opts.max } : {});
      if (opts.json) return printJson(result);
      const { ok: _ok, ...counts } = result;
      print(`Sweep done: ${Object.entries(counts).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`);
    });

  // ── simulate ──
  const simulate = program.command('simulate').description('play realistic provider webhooks against a webhook URL');

  simulate
    .command('replicate')
    .description('play a Replicate prediction (start → processing… → end) against a webhook URL, as Replicate would send it')
    .option('--url <webhook url>', 'the inspector\'s webhook URL (default: the local demo inspector after `chirp login --local`)')
    .option('--stream', 'an LLM streaming tokens instead of an image model with a progress bar')
    .option('--secret <whsec>', 'sign every delivery with this Replicate signing secret')
    .addOption(new Option('--outcome <outcome>', 'how it ends').choices(['succeeded', 'failed', 'canceled']).default('succeeded'))
    .option('--interval <duration>', 'pause between deliveries (Replicate sends at most one per 500 ms)', durationMs, 500)
    .option('--steps <n>', 'progress steps or streamed tokens', integer)
    .option('--model <owner/name>', 'model name')
    .addOption(jsonOption())
    .action(async (opts: { url?: string; stream?: boolean; secret?: string; outcome: 'succeeded' | 'failed' | 'canceled'; interval: number; steps?: number; model?: string; json?: boolean }) => {
      const url = opts.url ?? (await resolveProfile(program.opts<{ profile?: string }>().profile, io.env).catch(() => undefined))?.webhookUrl;
      if (!url) throw new UsageError('Give the webhook URL with --url (the full URL shown when the inspector was created or rotated).');
      const { simulateReplicateLifecycle } = await import('../local/replicate-simulator');
      const deliveries = await simulateReplicateLifecycle({
        url,
        outcome: opts.outcome,
        intervalMs: opts.interval,
        fetch: io.fetch,
        ...(opts.stream ? { stream: true } : {}),
        ...(opts.secret ? { secret: opts.secret } : {}),
        ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
        ...(opts.model ? { model: opts.model } : {}),
        onDelivery: (d) => {
          if (opts.json) return;
          let outcome = '';
          try {
            const body = JSON.parse(d.response) as { outcome?: string; error?: { message?: string } };
            outcome = body.outcome ?? body.error?.message ?? '';
          } catch {
            outcome = d.response.slice(0, 80);
          }
          print(`${d.status.padEnd(10)} HTTP ${d.httpStatus}  ${outcome}`);
        },
      });
      if (opts.json) printJson({ deliveries });
      const failed = deliveries.filter((d) => d.httpStatus >= 400);
      if (failed.length > 0) throw new CliError(`${failed.length} of ${deliveries.length} deliveries were refused (first: HTTP ${failed[0]!.httpStatus}).`);
    });

  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (and help where useful).
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      io.stderr(`chirp: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`chirp: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
