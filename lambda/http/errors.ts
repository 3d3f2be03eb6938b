/**
 * Errors → HTTP, in one place. Every error body is `{ "error": { "code", "message" } }`
 * (plus `field` for validation errors); 5xx only when state could not be saved, so that
 * Replicate's retry of a terminal webhook is useful.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ChirpError, ConcurrentUpdateError, type ErrorCode } from '../core/errors';
import type { Log } from '../core/log';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_a_job: 422,
  rate_limited: 429,
  internal: 500,
  store_unavailable: 503,
  push_unavailable: 503,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; reason?: string };
}

export function errorBody(code: ErrorCode, message: string, extra: { field?: string; reason?: string } = {}): ErrorBody {
  return { error: { code, message, ...extra } };
}

export function statusFor(err: unknown): { status: ContentfulStatusCode; body: ErrorBody; retryAfter?: number } {
  if (err instanceof ChirpError) {
    const extra: { field?: string; reason?: string } = {};
    if (err.details.field) extra.field = err.details.field;
    if (err.details.reason) extra.reason = err.details.reason;
    return { status: STATUS[err.code], body: errorBody(err.code, err.message, extra), retryAfter: err.details.retryAfterSeconds };
  }
  if (err instanceof ConcurrentUpdateError) {
    return { status: 503, body: errorBody('store_unavailable', 'Too many concurrent updates of this activity; try again.'), retryAfter: 1 };
  }
  return { status: 500, body: errorBody('internal', 'Something went wrong on our side.') };
}

export function errorResponse(c: Context, err: unknown, log: Log): Response {
  const { status, body, retryAfter } = statusFor(err);
  if (status >= 500) {
    log.error('request failed', { status, code: body.error.code, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  } else {
    log.info('request rejected', { status, code: body.error.code, reason: body.error.reason });
  }
  if (retryAfter !== undefined && (status === 429 || status === 503)) c.header('Retry-After', String(retryAfter));
  return c.json(body, status);
}
