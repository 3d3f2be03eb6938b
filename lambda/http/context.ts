/**
 * Per-request plumbing shared by every route: a request id (Lambda's, or a fresh one locally),
 * a child logger carrying it, JSON 404/405/500 answers, and security headers.
 */
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { errorBody, errorResponse } from './errors';
import type { Log } from '../core/log';

export interface RequestLogger extends Log {
  /** A logger whose every line carries `requestId`. */
  child(keys: Record<string, string>): Log;
}

export type AppEnv = {
  Bindings: { lambdaContext?: { awsRequestId?: string } };
  Variables: { requestId: string; log: Log };
};

export function requestLog(c: Context<AppEnv>): Log {
  return c.get('log');
}

export function createApp(log: RequestLogger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const requestId = c.env?.lambdaContext?.awsRequestId ?? randomUUID();
    c.set('requestId', requestId);
    c.set('log', log.child({ requestId }));
    await next();
    c.header('x-request-id', requestId);
    c.header('x-content-type-options', 'nosniff');
    c.header('cache-control', 'no-store');
  });
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, allowed) => {
    c.header('Allow', allowed.join(', '));
    return c.json(errorBody('method_not_allowed', `Use ${allowed.join(' or ')} on this path.`), 405);
  } }));
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404));
  app.onError((err, c) => errorResponse(c, err, c.get('log') ?? log));
  return app;
}
