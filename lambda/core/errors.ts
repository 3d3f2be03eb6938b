/**
 * Typed errors. The core throws these; `lambda/http/errors.ts` maps them to HTTP statuses in
 * one place. `code` is stable and machine-readable; `message` is for people.
 */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_a_job'
  | 'rate_limited'
  | 'store_unavailable'
  | 'push_unavailable'
  | 'internal';

export class ChirpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number; reason?: string } = {},
  ) {
    super(message);
    this.name = 'ChirpError';
  }
}

export class AuthError extends ChirpError {
  constructor(message: string, reason: string) {
    super('unauthorized', message, { reason });
    this.name = 'AuthError';
  }
}

export class ValidationError extends ChirpError {
  constructor(message: string, field?: string) {
    super('validation_failed', message, field === undefined ? {} : { field });
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends ChirpError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

/** The store could not be reached or throttled us: nothing was half-written; the caller may retry. */
export class StoreUnavailableError extends ChirpError {
  constructor(message: string, readonly cause?: unknown) {
    super('store_unavailable', message, { retryAfterSeconds: 1 });
    this.name = 'StoreUnavailableError';
  }
}

/** A conditional write lost a race; the caller re-reads and tries again. Never leaves the core. */
export class ConcurrentUpdateError extends Error {
  constructor(message = 'the item changed since it was read') {
    super(message);
    this.name = 'ConcurrentUpdateError';
  }
}
