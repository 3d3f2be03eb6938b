/**
 * Starts the real local server (embedded dynalite, outbox transport, simulated phone) in a
 * temporary directory with a controllable clock, and reads what reached the outbox.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxLine } from '../../lambda/adapters/push/outbox-push-sender';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../local/local-server';

export interface Harness {
  server: LocalServer;
  webhookUrl: string;
  clock: { now: number; advance(seconds: number): void };
  post(body: unknown, init?: { headers?: Record<string, string>; url?: string; raw?: string }): Promise<{ status: number; json: Record<string, unknown> }>;
  outbox(): Promise<OutboxLine[]>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<LocalServerOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chirp-test-'));
  const clock = {
    now: Date.parse('2026-06-01T12:00:00Z'),
    advance(seconds: number) {
      this.now += seconds * 1000;
    },
  };
  const server = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT', clock: () => clock.now, ...options });
  const webhookUrl = server.localJson.inspectors[0]!.webhookUrl;
  return {
    server,
    webhookUrl,
    clock,
    async post(body, init = {}) {
      const response = await fetch(init.url ?? webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
        body: init.raw ?? JSON.stringify(body),
      });
      await server.settle();
      const text = await response.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { text };
      }
      return { status: response.status, json };
    },
    async outbox() {
      await server.settle();
      try {
        const text = await readFile(server.outboxFile, 'utf8');
        return text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as OutboxLine);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Replicate prediction snapshot with sensible defaults. */
export function prediction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const id = (overrides.id as string | undefined) ?? 'q7m2c5ht9drgc0cmxbdvmw3q4r';
  return {
    id,
    model: 'meta/meta-llama-3-8b-instruct',
    version: 'hidden',
    input: { prompt: 'SECRET PROMPT never on the card' },
    source: 'api',
    data_removed: false,
    urls: { get: `https://api.replicate.com/v1/predictions/${id}`, web: `https://replicate.com/p/${id}` },
    created_at: '2026-06-01T11:59:58.000000Z',
    status: 'starting',
    output: null,
    logs: '',
    error: null,
    started_at: null,
    completed_at: null,
    metrics: {},
    ...overrides,
  };
}
