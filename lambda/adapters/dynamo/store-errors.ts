/**
 * Translates SDK failures into the core's errors, and pages into opaque cursors.
 */
import { ConcurrentUpdateError, StoreUnavailableError, ValidationError } from '../../core/errors';

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

function nameOf(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const e = err as { name?: unknown; code?: unknown };
  return typeof e.code === 'string' && UNAVAILABLE.has(e.code) ? e.code : typeof e.name === 'string' ? e.name : '';
}

/** Rethrows `err` as ConcurrentUpdateError, StoreUnavailableError, or unchanged (a bug). */
export function translateStoreError(err: unknown, what: string): never {
  const name = nameOf(err);
  if (name === 'ConditionalCheckFailedException') throw new ConcurrentUpdateError(`${what}: the item changed since it was read`);
  if (UNAVAILABLE.has(name) || isNetworkError(err)) {
    throw new StoreUnavailableError(`The store is unavailable (${what}); try again shortly.`, err);
  }
  throw err;
}

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|EPIPE/.test(err.message);
}

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined): Record<string, string | number> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const entries = Object.entries(parsed);
      if (entries.length > 0 && entries.length <= 6 && entries.every(([, v]) => typeof v === 'string' || typeof v === 'number')) {
        return Object.fromEntries(entries) as Record<string, string | number>;
      }
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not a cursor this API returned', 'cursor');
}
