/**
 * An embedded DynamoDB-compatible store for local mode and tests: dynalite (the real DynamoDB
 * wire protocol and validation, on LevelDB) on a loopback port, with Chirp's tables created
 * from the shared definitions.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../lambda/adapters/dynamo/dynamo-client';
import { ensureTable } from '../lambda/adapters/dynamo/create-tables';
import { ACTIVITY_TABLE, KEY_TABLE } from '../lambda/adapters/dynamo/table-definitions';

export const LOCAL_TABLE_NAMES = { activity: 'chirp-activity', key: 'chirp-keys' } as const;

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBDocumentClient;
  tables: { activity: string; key: string };
  /** Makes another client (e.g. one that counts requests). */
  newClient(onRequest?: (operation: string) => void): DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** `path` persists to disk (local mode); omit it for an in-memory store (tests). */
export async function startEmbeddedDynamo(options: { path?: string } = {}): Promise<EmbeddedDynamo> {
  const server = dynalite({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: DynamoDBDocumentClient[] = [];
  const newClient = (onRequest?: (operation: string) => void): DynamoDBDocumentClient => {
    const client = createDocumentClient({ endpoint, ...(onRequest ? { onRequest } : {}) });
    clients.push(client);
    return client;
  };
  const client = newClient();
  await ensureTable(client, ACTIVITY_TABLE, LOCAL_TABLE_NAMES.activity);
  await ensureTable(client, KEY_TABLE, LOCAL_TABLE_NAMES.key);
  return {
    endpoint,
    client,
    tables: { ...LOCAL_TABLE_NAMES },
    newClient,
    async close() {
      for (const c of clients) c.destroy();
      // Keep-alive sockets would hold close() open; the store is ours, so end them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
