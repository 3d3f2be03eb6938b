/**
 * `GET /v1/openapi.json` covers every route the app registers and is generated from the request
 * schemas; `GET /inspector` is served with a strict CSP, no external assets, and from a
 * generated module that matches web/src.
 */
import { readFile } from 'node:fs/promises';
import { createLogger } from '../../lambda/adapters/logger';
import { LIMITS } from '../../lambda/core/inspector-settings';
import type { ApiDeps } from '../../lambda/http/api-routes';
import { addApiRoutes } from '../../lambda/http/api-routes';
import { createApp } from '../../lambda/http/context';
import { documentedRoutes } from '../../lambda/http/openapi';
import { addWebhookRoutes } from '../../lambda/http/webhook-routes';
import { buildInspectorAssets, GENERATED_FILE, renderModule } from '../../web/build';
import { startHarness, type Harness } from '../helpers/local-harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown> }[]; requestBody?: unknown; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>>; required?: string[] }> };
};

async function openapi(): Promise<Doc> {
  const response = await fetch(`${h.server.url}/v1/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
}

describe('GET /v1/openapi.json', () => {
  it('documents every route the API and webhook apps register', async () => {
    // prepare: the same route setup the Lambda handlers and the local server use
    const app = createApp(createLogger('openapi-test', 'SILENT'));
    const never = (): Promise<ApiDeps> => Promise.reject(new Error('routes are only listed here'));
    addWebhookRoutes(app, never);
    addApiRoutes(app, never);
    const registered = app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.endsWith('/'))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);

    // act
    const doc = await openapi();
    const inDocument = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

    // assert
    expect(doc.openapi).toBe('3.1.0');
    expect(new Set(inDocument)).toEqual(new Set(documentedRoutes()));
    for (const route of registered) expect(inDocument).toContain(route);
  });

  it('derives request schemas and bounds from the validating zod schemas', async () => {
    // act
    const doc = await openapi();

    // assert
    const create = doc.components.schemas.InspectorCreate!;
    expect(create.required).toEqual(['name']);
    expect(create.properties!.coalesceSeconds).toMatchObject({ type: 'integer', minimum: LIMITS.coalesceSeconds.min, maximum: LIMITS.coalesceSeconds.max });
    expect(create.properties!.signingSecrets).toMatchObject({ type: 'array', maxItems: LIMITS.signingSecrets.max });
    expect(doc.components.schemas.InspectorUpdate!.properties!.replicateApiToken).toMatchObject({ anyOf: expect.arrayContaining([{ type: 'null' }]) });
    const events = doc.paths['/v1/inspectors/{id}/events']!.get!;
    expect(events.parameters!.map((p) => p.name)).toEqual(['id', 'limit', 'cursor', 'status', 'outcome', 'since', 'until', 'activityId', 'jobId']);
    expect(events.parameters!.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(doc.paths['/v1/webhooks/replicate']!.post!.requestBody).toBeDefined();
    // Response schemas never describe a secret field.
    expect(Object.keys(doc.components.schemas.Inspector!.properties!)).not.toEqual(expect.arrayContaining(['key']));
    expect(JSON.stringify(doc.components.schemas.Inspector)).not.toMatch(/keyHashes|signingSecrets"|replicateApiToken"/);
  });
});

describe('GET /inspector', () => {
  it('serves the page with a strict CSP and no framing', async () => {
    // act
    const response = await fetch(`${h.server.url}/inspector`);
    const html = await response.text();

    // assert
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('serves its script, stylesheet and icon from this origin only', async () => {
    // act
    const [js, css, icon, missing] = await Promise.all(['app.js', 'inspector.css', 'icon.svg', 'nope.js'].map((name) => fetch(`${h.server.url}/inspector/${name}`)));
    const jsText = await js.text();
    const cssText = await css.text();

    // assert
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(missing.status).toBe(404);
    expect(cssText).not.toMatch(/@import|url\(\s*['"]?(https?:)?\/\//i);
    expect(cssText).not.toMatch(/@font-face/i);
    expect(jsText).not.toMatch(/https?:\/\/(?!api\.replicate\.com|replicate\.com)[a-z]/i);
    expect(jsText).not.toMatch(/\beval\(|new Function\(|innerHTML/);
  });

  it('redirects /inspector/ to /inspector so relative asset URLs resolve', async () => {
    // act
    const response = await fetch(`${h.server.url}/inspector/`, { redirect: 'manual' });

    // assert
    expect(response.status).toBe(308);
    expect(new URL(response.headers.get('location')!, `${h.server.url}/inspector/`).pathname).toBe('/inspector');
  });

  it('is served from a generated module that matches web/src (run `npx tsx web/build.ts` after editing it)', async () => {
    // act
    const fresh = renderModule(await buildInspectorAssets());

    // assert
    expect(await readFile(GENERATED_FILE, 'utf8')).toBe(fresh);
  });
});
