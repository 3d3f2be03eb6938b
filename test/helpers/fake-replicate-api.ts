/**
 * A fake of Replicate's HTTP API on 127.0.0.1 (port 0) for the sweeper's reconciliation:
 * `GET /v1/predictions/{id}` and `GET /v1/trainings/{id}` answer with whatever the test scripted
 * for that id (a JSON body, an error status with headers, or no answer at all), and every request
 * is recorded. `hold()` parks answers until the test releases them, so a test can land a webhook
 * while a sweep is waiting on Replicate without relying on timing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface FakeRequest {
  method: string;
  path: string;
  kind: 'predictions' | 'trainings' | 'other';
  id: string;
  authorization: string | undefined;
}

export interface Hold {
  /** Resolves when a request is parked. */
  arrived: Promise<void>;
  release(): void;
}

export interface FakeReplicateApi {
  url: string;
  requests: FakeRequest[];
  /** Scripts the answer for a job id (the latest call wins); unscripted ids get 404. */
  answer(id: string, answer: FakeAnswer): void;
  hold(): Hold;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeReplicateApi(): Promise<FakeReplicateApi> {
  const answers = new Map<string, FakeAnswer>();
  const requests: FakeRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let hold: { gate: Promise<void>; onArrive: () => void } | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const match = /^\/v1\/(predictions|trainings)\/([^/]+)$/.exec(path);
    const kind = match ? (match[1] as 'predictions' | 'trainings') : 'other';
    const id = match ? decodeURIComponent(match[2]!) : '';
    requests.push({ method: req.method ?? '', path, kind, id, authorization: req.headers.authorization });
    if (hold) {
      const { gate, onArrive } = hold;
      onArrive();
      await gate;
    }
    const answer = match && req.method === 'GET' ? answers.get(id) : undefined;
    if (answer?.hang) {
      hanging.add(res);
      return;
    }
    const status = answer ? (answer.status ?? 200) : 404;
    const body = answer ? answer.body : { detail: 'Not found.', status: 404 };
    res.writeHead(status, { 'content-type': 'application/json', ...(answer?.headers ?? {}) });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(id, answer) {
      answers.set(id, answer);
    },
    hold() {
      let release!: () => void;
      let onArrive!: () => void;
      const arrived = new Promise<void>((resolve) => {
        onArrive = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      hold = { gate, onArrive };
      return {
        arrived,
        release() {
          hold = undefined;
          release();
        },
      };
    },
    reset() {
      answers.clear();
      requests.length = 0;
      hold = undefined;
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
