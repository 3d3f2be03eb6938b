/**
 * `POST /v1/webhooks/replicate`: parse the HTTP request, hand it to the core, map the result.
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ChirpError } from '../core/errors';
import { ingestWebhook, type IngestDeps } from '../core/ingest-webhook';
import { errorBody } from './errors';
import type { AppEnv } from './context';

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** Replicate's content type is not documented; accept JSON and nothing that clearly isn't. */
function acceptableContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json') || type === 'text/json';
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export function addWebhookRoutes(app: Hono<AppEnv>, deps: () => Promise<IngestDeps>): void {
  app.post(
    '/v1/webhooks/replicate',
    bodyLimit({
      maxSize: MAX_WEBHOOK_BODY_BYTES,
      onError: (c) => c.json(errorBody('payload_too_large', `Webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes.`), 413),
    }),
    async (c) => {
      if (!acceptableContentType(c.req.header('content-type'))) {
        throw new ChirpError('unsupported_media_type', 'Send the prediction as application/json.');
      }
      const queryKeys = c.req.queries('key') ?? [];
      if (queryKeys.length > 1) throw new ChirpError('bad_request', 'Give the key once.');
      const key = queryKeys[0] ?? bearerToken(c.req.header('authorization'));
      const rawBody = new Uint8Array(await c.req.arrayBuffer());
      const headers: Record<string, string | undefined> = {
        'webhook-id': c.req.header('webhook-id'),
        'webhook-timestamp': c.req.header('webhook-timestamp'),
        'webhook-signature': c.req.header('webhook-signature'),
      };
      // The core logs through the request's logger, so its lines carry the request id too.
      const result = await ingestWebhook({ ...(await deps()), log: c.get('log') }, { key, rawBody, headers, requestId: c.get('requestId') });
      c.get('log').info('webhook', {
        outcome: result.outcome,
        activityId: result.activityId,
        jobId: result.jobId,
        status: result.status,
        pushes: result.pushes.length,
      });
      return c.json({ ok: true, ...result }, 200);
    },
  );
}
