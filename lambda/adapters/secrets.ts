/**
 * Secrets Manager reads, once per container per secret. Values are never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../config';

let client: SecretsManagerClient | undefined;
const cache = new Map<string, Promise<string>>();

export function readSecret(secretId: string): Promise<string> {
  let value = cache.get(secretId);
  if (!value) {
    client ??= new SecretsManagerClient({});
    value = client.send(new GetSecretValueCommand({ SecretId: secretId })).then((out) => {
      if (!out.SecretString) throw new ConfigError(`secret ${secretId} has no SecretString`);
      return out.SecretString;
    });
    // A failed read is not cached: the next invocation tries again.
    value.catch(() => cache.delete(secretId));
    cache.set(secretId, value);
  }
  return value;
}
