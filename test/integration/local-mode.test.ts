/**
 * Local mode as a newcomer meets it: first start, local.json, the simulated phone, restarts,
 * and the real `npm start` entry point.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer } from '../../local/local-server';
import { simulateReplicateLifecycle } from '../../local/replicate-simulator';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'chirp-local-'));
}

describe('local mode', () => {
  test('first start creates a demo inspector bound to a simulated phone and writes local.json', async () => {
    // Arrange
    const dataDir = await tempDir();
    const server = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT' });
    try {
      // Act
      const local = JSON.parse(await readFile(join(dataDir, 'local.json'), 'utf8')) as Record<string, unknown>;
      const mode = (await stat(join(dataDir, 'secrets.json'))).mode & 0o777;
      // Assert
      expect(server.firstStart).toBe(true);
      expect(Object.keys(local).sort()).toEqual(['adminToken', 'devices', 'inspectors', 'url']);
      expect(local.url).toBe(server.url);
      expect(local.inspectors).toEqual([{ id: expect.stringMatching(/^insp_/), name: 'Demo', webhookUrl: expect.stringContaining(`${server.url}/v1/webhooks/replicate?key=chirp_wh_`) }]);
      expect(local.devices).toEqual([{ id: expect.stringMatching(/^dev_/), name: 'Simulated iPhone' }]);
      expect(mode).toBe(0o600);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a simulated streaming prediction flows to the outbox as start, updates and one end', async () => {
    // Arrange
    const dataDir = await tempDir();
    const server = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT' });
    try {
      // Act
      const deliveries = await simulateReplicateLifecycle({ url: server.localJson.inspectors[0]!.webhookUrl, stream: true, intervalMs: 0, secret: undefined });
      await server.settle();
      const lines = (await readFile(server.outboxFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; activityId: string; jobId: string; target: { deviceId: string; token: string }; headers: Record<string, string>; payload: { aps: Record<string, unknown> } });
      // Assert
      expect(deliveries.every((d) => d.httpStatus === 200)).toBe(true);
      expect(lines[0]!.kind).toBe('start');
      expect(lines[lines.length - 1]!.kind).toBe('end');
      expect(lines.filter((l) => l.kind === 'end')).toHaveLength(1);
      for (const line of lines) {
        expect(line).toMatchObject({ activityId: expect.stringMatching(/^act_/), jobId: expect.any(String), target: { deviceId: server.localJson.devices[0]!.id, token: expect.stringMatching(/^[0-9a-f]+$/) }, headers: { 'apns-push-type': 'liveactivity' } });
      }
      // The update token the simulated phone reported is what updates and the end went to.
      const updateTokens = new Set(lines.slice(1).map((l) => l.target.token));
      expect(updateTokens.size).toBe(1);
      expect(updateTokens.has(lines[0]!.target.token)).toBe(false);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a restart keeps the data, the keys and the webhook URL', async () => {
    // Arrange
    const dataDir = await tempDir();
    const first = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT' });
    const key = new URL(first.localJson.inspectors[0]!.webhookUrl).searchParams.get('key');
    await simulateReplicateLifecycle({ url: first.localJson.inspectors[0]!.webhookUrl, intervalMs: 0 });
    await first.settle();
    await first.close();
    // Act
    const second = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT' });
    try {
      const activities = await second.deps.activities.listActivities(second.localJson.inspectors[0]!.id, { limit: 10 });
      // Assert
      expect(second.firstStart).toBe(false);
      expect(new URL(second.localJson.inspectors[0]!.webhookUrl).searchParams.get('key')).toBe(key);
      expect(activities.items).toHaveLength(1);
      expect(activities.items[0]!.job.status).toBe('succeeded');
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('`npm start` (bin/local.ts) prints the banner with the webhook URL and serves it', async () => {
    // Arrange
    const dataDir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: join(__dirname, '../..'),
      env: { ...process.env, PORT: '0', CHIRP_DATA_DIR: dataDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      // Act
      const webhookUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner within 20 s:\n${output}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /(http:\/\/127\.0\.0\.1:\d+\/v1\/webhooks\/replicate\?key=\S+)/.exec(output);
          if (match && output.includes('local.json')) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      const res = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'banner1', status: 'starting', model: 'o/m' }) });
      // Assert
      expect(output).toContain('Chirp is running at http://127.0.0.1:');
      expect(output).toContain('npm run simulate -- --url');
      expect(output).toContain('curl -sS -X POST');
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(output).toMatch(/push start\s+Replicate · STARTING/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
