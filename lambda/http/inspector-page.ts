/**
 * `GET /inspector` and its assets: the web inspector, served by the API itself (same origin, so
 * no CORS) from strings compiled into the bundle (web/generated/inspector-assets.ts). Nothing
 * is loaded from anywhere else: no CDN, no web fonts. The page gets a strict CSP (scripts and
 * styles from this origin only, no inline script or style, no framing) and sends no referrer,
 * so a URL on the page never leaks to another site.
 */
import type { Context, Hono } from 'hono';
import { INSPECTOR_ASSETS } from '../../web/generated/inspector-assets';
import type { AppEnv } from './context';
import { errorBody } from './errors';

export const INSPECTOR_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function serve(c: Context<AppEnv>, name: string): Response {
  const asset = INSPECTOR_ASSETS[name];
  if (!asset) return c.json(errorBody('not_found', `No inspector asset ${name}.`), 404);
  c.header('content-type', asset.contentType);
  c.header('content-security-policy', INSPECTOR_CSP);
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'no-referrer');
  c.header('cross-origin-opener-policy', 'same-origin');
  c.header('cross-origin-resource-policy', 'same-origin');
  return c.body(asset.body, 200);
}

export function addInspectorPage(app: Hono<AppEnv>): void {
  app.get('/inspector', (c) => serve(c, 'index.html'));
  // Relative asset URLs on the page resolve against /inspector, not /inspector/.
  app.get('/inspector/', (c) => c.redirect('../inspector', 308));
  app.get('/inspector/:asset', (c) => serve(c, c.req.param('asset') === 'index.html' ? 'index.html' : c.req.param('asset')));
}
