/**
 * The real `chirp` binary (node --import tsx bin/chirp.ts) against a real local server: login,
 * inspectors, devices, events, activities, test, simulate; exit codes 0 / 1 (server or
 * environment refused, with the server's message) / 2 (usage).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspectorCreatedSchema, inspectorViewSchema, inspectorRotatedSchema, eventViewSchema } from '../../lambda/http/schemas';
import { startHarness, type Harness } from '../helpers/local-harness';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/chirp.ts');

let h: Harness;
let configDir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function env(): NodeJS.ProcessEnv {
  const { CHIRP_URL: _url, CHIRP_ADMIN_TOKEN: _token, ...rest } = process.env;
  return { ...rest, CHIRP_CONFIG_DIR: configDir, NO_COLOR: '1' };
}

function start(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env: env() });
}

/** Everything a finished child process printed, and its exit code. */
function collect(child: ChildProcessWithoutNullStreams): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function chirp(args: string[], input?: string): Promise<Run> {
  const child = start(args);
  const run = collect(child);
  child.stdin.end(input ?? '');
  return run;
}

function json<T>(run: Run, parse: (value: unknown) => T): T {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return parse(JSON.parse(run.stdout));
}

beforeAll(async () => {
  // The real clock: `events tail --since` and `--follow` compare with it.
  h = await startHarness({ clock: Date.now });
  configDir = await mkdtemp(join(tmpdir(), 'chirp-cli-'));
});

afterAll(async () => {
  await h.close();
  await rm(configDir, { recursive: true, force: true });
});

describe('the installed entry point', () => {
  it('bin/chirp.cjs (package.json "bin") runs the same CLI', async () => {
    // act
    const child = spawn(process.execPath, [join(ROOT, 'bin/chirp.cjs'), '--version'], { cwd: ROOT, env: env() });
    child.stdin.end();
    const run = await collect(child);

    // assert
    expect(run).toEqual({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), stderr: '' });
  });

  it('answers usage errors with exit code 2 and a suggestion', async () => {
    // act
    const typo = await chirp(['inspectors', 'lst']);
    const missing = await chirp(['inspectors', 'create']);

    // assert
    expect([typo.code, missing.code]).toEqual([2, 2]);
    expect(typo.stderr).toContain('(Did you mean list?)');
    expect(missing.stderr).toContain("missing required argument 'name'");
  });
});

describe('login', () => {
  it('refuses a wrong token with the server\'s message and saves nothing', async () => {
    // act
    const run = await chirp(['login', h.server.url, '--token', 'not-the-token']);

    // assert
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('That admin token is not valid');
    await expect(stat(join(configDir, 'credentials.json'))).rejects.toThrow();
  });

  it('needs exactly one way to log in (usage error, exit 2)', async () => {
    // act
    const none = await chirp(['login']);
    const two = await chirp(['login', h.server.url, '--local']);

    // assert
    expect([none.code, two.code]).toEqual([2, 2]);
    expect(none.stderr).toContain('Give exactly one of');
  });

  it('says how to log in when not logged in', async () => {
    // act
    const run = await chirp(['inspectors', 'list']);

    // assert
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Not logged in\. Run `chirp login --local`/);
  });

  it('reads the token from stdin with --token -', async () => {
    // act
    const run = await chirp(['--profile', 'stdin', 'login', h.server.url, '--token', '-'], `${h.server.localJson.adminToken}\n`);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('as profile "stdin"');
  });

  it('--local reads local.json and stores credentials readable only by the user', async () => {
    // act
    const run = await chirp(['login', '--local', '--data-dir', h.server.dataDir]);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Logged in to ${h.server.url}`);
    const file = join(configDir, 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { current: string; profiles: Record<string, { url: string; adminToken: string; webhookUrl?: string }> };
    expect(saved.current).toBe('default');
    expect(saved.profiles.default).toMatchObject({ url: h.server.url, adminToken: h.server.localJson.adminToken, webhookUrl: h.server.localJson.inspectors[0]!.webhookUrl });
  });
});

describe('with credentials', () => {
  let created: ReturnType<typeof inspectorCreatedSchema.parse>;

  beforeAll(async () => {
    await chirp(['login', '--local', '--data-dir', h.server.dataDir]);
    created = json(await chirp(['inspectors', 'create', 'CLI team', '--all-devices', '--json']), (v) => inspectorCreatedSchema.parse(v));
  });

  it('creates an inspector and prints its webhook URL once', async () => {
    // act
    const run = await chirp(['inspectors', 'create', 'Second team']);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Created inspector "Second team" \(insp_\w+\)/);
    expect(run.stdout).toMatch(new RegExp(`${h.server.url}/v1/webhooks/replicate\\?key=chirp_wh_\\w+`));
    expect(run.stdout).toContain('No devices bound yet');
    expect(created.devices.map((d) => d.name)).toEqual(['Simulated iPhone']);
  });

  it('lists and shows inspectors, as a table or JSON, without secrets', async () => {
    // act
    const table = await chirp(['inspectors', 'list']);
    const listed = json(await chirp(['inspectors', 'list', '--json']), (v) => (v as { items: unknown[] }).items.map((i) => inspectorViewSchema.parse(i)));
    const shown = await chirp(['inspectors', 'show', created.id]);

    // assert
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+KEY\s+DEVICES\s+SIGNED\s+LAST EVENT$/);
    expect(table.stdout).toContain('CLI team');
    expect(listed.map((i) => i.id)).toContain(created.id);
    expect(shown.stdout).toContain('full URL shown only at create/rotate');
    for (const run of [table, shown]) expect(run.stdout).not.toContain(created.key);
  });

  it('changes settings; a value the server refuses exits 1 with its message', async () => {
    // act
    const refused = await chirp(['inspectors', 'set', created.id, '--coalesce', '0']);
    const notANumber = await chirp(['inspectors', 'set', created.id, '--coalesce', 'soon']);
    const nothing = await chirp(['inspectors', 'set', created.id]);
    const changed = json(await chirp(['inspectors', 'set', created.id, '--coalesce', '9', '--hang-timeout', 'default', '--json']), (v) => inspectorViewSchema.parse(v));

    // assert
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/coalesceSeconds: .*\(400 validation_failed\)/);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain('must be a whole number');
    expect(nothing.code).toBe(2);
    expect(changed).toMatchObject({ coalesceSeconds: 9, hangTimeoutMinutes: null });
  });

  it('sends a test card and shows the pushes', async () => {
    // act
    const run = await chirp(['test', '--inspector', created.id]);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Test job \w+ → "CLI team"/);
    expect(run.stdout).toMatch(/starting\s+applied\s+start→Simulated iPhone:sent/);
    // The end push goes with the last webhook, or (when the simulated phone's update token is not in
    // yet) with the token report, and the CLI says so.
    expect(run.stdout).toMatch(/succeeded\s+applied(\s+end→Simulated iPhone:sent|\nThe end push goes out as soon as the phone reports)/);
  });

  it('needs --inspector when there are several', async () => {
    // act
    const run = await chirp(['test']);

    // assert
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pick one with --inspector');
  });

  it('prints the events log oldest first, filtered, as lines or NDJSON', async () => {
    // act
    const lines = await chirp(['events', 'tail', '--inspector', created.id]);
    const ndjson = await chirp(['events', 'tail', '--inspector', created.id, '--status', 'succeeded', '--json']);
    const badFilter = await chirp(['events', 'tail', '--outcome', 'exploded']);

    // assert
    expect(lines.code).toBe(0);
    const out = lines.stdout.trim().split('\n');
    expect(out[0]).toMatch(/applied\s+webhook:start\s+starting/);
    expect(out.filter((l) => /applied\s+webhook:completed\s+succeeded\s+\w+\s+processing→succeeded/.test(l))).toHaveLength(1);
    expect(out.filter((l) => l.includes('end→Simulated iPhone:sent'))).toHaveLength(1);
    const events = ndjson.stdout.trim().split('\n').map((line) => eventViewSchema.parse(JSON.parse(line)));
    expect(events.every((e) => e.status === 'succeeded')).toBe(true);
    expect(events.filter((e) => e.source === 'webhook')).toHaveLength(1);
    expect(badFilter.code).toBe(2);
    expect(badFilter.stderr).toContain('unknown exploded');
  });

  it('lists cards with their state', async () => {
    // act
    const run = await chirp(['activities', 'list', '--inspector', created.id]);
    const badState = await chirp(['activities', 'list', '--state', 'paused']);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Replicate · SUCCEEDED\s+chirp\/test-card\s+1 image\s+Simulated iPhone:ended/);
    expect(badState.code).toBe(2);
  });

  it('simulates a Replicate prediction against a webhook URL', async () => {
    // act
    const run = await chirp(['simulate', 'replicate', '--url', created.webhookUrl, '--interval', '0', '--steps', '2']);

    // assert
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' '))).toEqual(['starting HTTP 200 applied', 'processing HTTP 200 applied', 'processing HTTP 200 applied', 'succeeded HTTP 200 applied']);
  });

  it('follows new events as they arrive', async () => {
    // prepare
    const child = start(['events', 'tail', '--inspector', created.id, '--follow', '--interval', '100ms', '--lines', '1', '--json']);
    const seen: string[] = [];
    let buffer = '';
    const waitFor = (predicate: (lines: string[]) => boolean) =>
      new Promise<void>((resolvePromise, reject) => {
        const check = () => (predicate(seen) ? resolvePromise() : undefined);
        child.stdout.on('data', (d: Buffer) => {
          buffer += d.toString();
          const parts = buffer.split('\n');
          buffer = parts.pop()!;
          seen.push(...parts.filter((p) => p !== ''));
          check();
        });
        child.on('close', (code) => reject(new Error(`tail exited (${code}) before the event arrived`)));
        check();
      });
    try {
      await waitFor((lines) => lines.length >= 1);

      // act
      const sent = await chirp(['test', '--inspector', created.id, '--outcome', 'failed', '--json']);
      const { jobId } = JSON.parse(sent.stdout) as { jobId: string };

      // assert
      await waitFor((lines) => lines.some((l) => l.includes(jobId) && l.includes('"status":"failed"')));
    } finally {
      child.kill('SIGINT');
    }
  });

  it('rotates and revokes', async () => {
    // act
    const rotated = json(await chirp(['inspectors', 'rotate', created.id, '--grace', '1h', '--json']), (v) => inspectorRotatedSchema.parse(v));
    const withoutYes = await chirp(['inspectors', 'revoke', created.id]);
    const revoked = await chirp(['inspectors', 'revoke', created.id, '--yes']);
    const after = await chirp(['inspectors', 'show', created.id]);

    // assert
    expect(rotated.webhookUrl).not.toBe(created.webhookUrl);
    expect(rotated.previousKeyValidUntil - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    expect(withoutYes.code).toBe(2);
    expect(revoked.code).toBe(0);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`No inspector ${created.id}. (404 not_found)`);
  });

  it('lists devices and refuses to remove an unknown one', async () => {
    // act
    const list = await chirp(['devices', 'list']);
    const unknown = await chirp(['devices', 'remove', 'dev_nope', '--yes']);

    // assert
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/dev_\w+\s+Simulated iPhone \(simulated\)\s+sandbox\s+yes/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No device dev_nope');
  });

  it('runs a sweeper pass', async () => {
    // act
    const run = await chirp(['sweep', '--json']);

    // assert
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
  });
});
