/**
 * The DynamoDB document client, created once per container. Local mode and tests point it at
 * dynalite with `endpoint`; in Lambda the SDK's defaults (region, credentials) apply.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoOptions {
  /** e.g. http://127.0.0.1:4567 for dynalite. */
  endpoint?: string;
  region?: string;
  /** Called once per DynamoDB request with the operation name (the bench counts them). */
  onRequest?: (operation: string) => void;
  maxAttempts?: number;
}

export function createDocumentClient(options: DynamoOptions = {}): DynamoDBDocumentClient {
  const config: DynamoDBClientConfig = { maxAttempts: options.maxAttempts ?? 3 };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? 'local';
    // dynalite checks that requests are signed, not by whom.
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  } else if (options.region) {
    config.region = options.region;
  }
  const client = new DynamoDBClient(config);
  if (options.onRequest) {
    const onRequest = options.onRequest;
    // Counted at the finalize step: once per request actually sent, retries included.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        onRequest(String(context.commandName ?? 'unknown').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'finalizeRequest', name: 'chirpRequestCounter' },
    );
  }
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
