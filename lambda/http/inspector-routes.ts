/**
 * The inspector API (ARCHITECTURE §2.4), the OpenAPI document and the web inspector page.
 * Thin routes: authenticate, validate, call the core, map to views (inspector-views.ts, which
 * never shows a secret). Every change invalidates the resolver cache, so a revoked or rotated
 * key stops working in this container at once (other containers within the cache TTL).
 */
import type { Context, Hono } from 'hono';
import { createInspector, requireInspector, revokeInspector, rotateInspectorKey, updateInspector, webhookUrlFor } from '../core/directory';
import { NotFoundError } from '../core/errors';
import { activityTimeline, lastEvent, listActivities, listEvents } from '../core/inspector-queries';
import type { Device, EventOutcome, Inspector } from '../core/store-ports';
import { runTestJob } from '../core/test-job';
import type { ApiDeps } from './api-routes';
import { requireAdmin } from './auth';
import type { AppEnv } from './context';
import { activityView, eventView, inspectorView } from './inspector-views';
import { addInspectorPage } from './inspector-page';
import { parseJsonBody } from './json-body';
import { openApiDocument } from './openapi';
import { parseQuery } from './query';
import {
  activitiesQuerySchema,
  DEFAULT_ROTATION_GRACE_SECONDS,
  eventsQuerySchema,
  inspectorCreateSchema,
  inspectorUpdateSchema,
  pageQuerySchema,
  parseTimeParam,
  rotateSchema,
  testJobSchema,
  type InspectorCreated,
} from './schemas';
import { predictionSnippets } from './snippets';

/** Bounded so a list page costs a bounded number of Limit-1 queries. */
const INSPECTOR_PAGE_DEFAULT = 50;

/** Where webhook URLs point: the configured public URL (a tunnel, a custom domain), else this request's origin. */
export function baseUrlOf(c: Context<AppEnv>, d: ApiDeps): string {
  return (d.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');
}

async function devicesById(d: ApiDeps, ids: readonly string[]): Promise<Map<string, Device>> {
  if (ids.length === 0) return new Map();
  return new Map((await d.keys.getDevices(ids)).map((device) => [device.id, device]));
}

async function viewOf(c: Context<AppEnv>, d: ApiDeps, inspector: Inspector) {
  const [devices, last] = await Promise.all([devicesById(d, inspector.deviceIds), lastEvent(d.activities, inspector.id)]);
  return inspectorView(inspector, { baseUrl: baseUrlOf(c, d), devices, lastEvent: last });
}

async function withKey(c: Context<AppEnv>, d: ApiDeps, inspector: Inspector, key: string): Promise<InspectorCreated> {
  const webhookUrl = webhookUrlFor(baseUrlOf(c, d), key);
  return { ...(await viewOf(c, d, inspector)), key, webhookUrl, snippets: predictionSnippets(webhookUrl) };
}

function commaList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',');
}

export function addInspectorRoutes(app: Hono<AppEnv>, deps: () => Promise<ApiDeps>): void {
  /** Admin-only: resolves deps after checking the token. */
  const admin = async (c: Context<AppEnv>): Promise<ApiDeps> => {
    const d = await deps();
    requireAdmin(c, d.adminToken);
    return d;
  };

  app.post('/v1/inspectors', async (c) => {
    const d = await admin(c);
    const input = await parseJsonBody(c, inspectorCreateSchema);
    const { inspector, key } = await createInspector(d, input);
    d.resolver.invalidate();
    return c.json(await withKey(c, d, inspector, key), 201);
  });

  app.get('/v1/inspectors', async (c) => {
    const d = await admin(c);
    const query = parseQuery(c, pageQuerySchema);
    const limit = query.limit ?? INSPECTOR_PAGE_DEFAULT;
    // Revoked inspectors stay in the table (their id is never reused) but are not listed.
    const live: Inspector[] = [];
    let cursor = query.cursor;
    // A few store pages at most per request; a page that came back short still carries the cursor.
    for (let pages = 0; pages < 5; pages++) {
      const page = await d.keys.listInspectors({ limit: limit - live.length, ...(cursor ? { cursor } : {}) });
      live.push(...page.items.filter((i) => i.revokedAt === undefined));
      cursor = page.cursor;
      if (!cursor || live.length >= limit) break;
    }
    const devices = await devicesById(d, [...new Set(live.flatMap((i) => i.deviceIds))]);
    const lasts = await Promise.all(live.map((i) => lastEvent(d.activities, i.id)));
    const items = live.map((inspector, i) => inspectorView(inspector, { baseUrl: baseUrlOf(c, d), devices, lastEvent: lasts[i] }));
    return c.json(cursor ? { items, cursor } : { items });
  });

  app.get('/v1/inspectors/:id', async (c) => {
    const d = await admin(c);
    return c.json(await viewOf(c, d, await requireInspector(d.keys, c.req.param('id'))));
  });

  app.patch('/v1/inspectors/:id', async (c) => {
    const d = await admin(c);
    const changes = await parseJsonBody(c, inspectorUpdateSchema);
    const inspector = await updateInspector(d, c.req.param('id'), changes);
    d.resolver.invalidate();
    return c.json(await viewOf(c, d, inspector));
  });

  app.delete('/v1/inspectors/:id', async (c) => {
    const d = await admin(c);
    await revokeInspector(d, c.req.param('id'));
    d.resolver.invalidate();
    return c.body(null, 204);
  });

  app.post('/v1/inspectors/:id/rotate', async (c) => {
    const d = await admin(c);
    const { graceSeconds } = await parseJsonBody(c, rotateSchema);
    const { inspector, key, previousKeyValidUntil } = await rotateInspectorKey(d, c.req.param('id'), graceSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS);
    d.resolver.invalidate();
    return c.json({ ...(await withKey(c, d, inspector, key)), previousKeyValidUntil });
  });

  app.post('/v1/inspectors/:id/test', async (c) => {
    const d = await admin(c);
    const options = await parseJsonBody(c, testJobSchema);
    const id = c.req.param('id');
    // Through the resolver, like a webhook: the test sees exactly the settings a webhook would.
    const resolved = await d.resolver.resolveInspector(id);
    if (!resolved) throw new NotFoundError(`No inspector ${id}.`);
    const result = await runTestJob(d, resolved, { outcome: options.outcome ?? 'succeeded', model: options.model ?? 'chirp/test-card', requestId: c.get('requestId') });
    return c.json(result, 201);
  });

  app.get('/v1/inspectors/:id/events', async (c) => {
    const d = await admin(c);
    const query = parseQuery(c, eventsQuerySchema);
    const inspector = await requireInspector(d.keys, c.req.param('id'));
    const statuses = commaList(query.status);
    const outcomes = commaList(query.outcome) as EventOutcome[] | undefined;
    const page = await listEvents(d.activities, inspector, {
      limit: query.limit ?? 50,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(statuses ? { statuses } : {}),
      ...(outcomes ? { outcomes } : {}),
      ...(query.since ? { since: parseTimeParam(query.since)! } : {}),
      ...(query.until ? { until: parseTimeParam(query.until)! } : {}),
      ...(query.activityId ? { activityId: query.activityId } : {}),
      ...(query.jobId ? { jobId: query.jobId } : {}),
    });
    return c.json({ items: page.items.map(eventView), ...(page.cursor ? { cursor: page.cursor } : {}), scanned: page.scanned });
  });

  app.get('/v1/inspectors/:id/activities', async (c) => {
    const d = await admin(c);
    const query = parseQuery(c, activitiesQuerySchema);
    const inspector = await requireInspector(d.keys, c.req.param('id'));
    const page = await listActivities(d.activities, inspector.id, { state: query.state ?? 'all', limit: query.limit ?? 20, ...(query.cursor ? { cursor: query.cursor } : {}) });
    const devices = await devicesById(d, [...new Set(page.items.flatMap((a) => Object.keys(a.devices)))]);
    return c.json({ items: page.items.map((a) => activityView(a, devices)), ...(page.cursor ? { cursor: page.cursor } : {}) });
  });

  app.get('/v1/inspectors/:id/activities/:activityId', async (c) => {
    const d = await admin(c);
    const inspector = await requireInspector(d.keys, c.req.param('id'));
    const activityId = c.req.param('activityId');
    const found = await d.activities.get(activityId);
    if (!found || found.value.inspectorId !== inspector.id) throw new NotFoundError(`No activity ${activityId} under inspector ${inspector.id}.`);
    const [devices, timeline] = await Promise.all([devicesById(d, Object.keys(found.value.devices)), activityTimeline(d.activities, inspector, activityId)]);
    return c.json({ activity: activityView(found.value, devices), timeline: timeline.map(eventView) });
  });

  app.get('/v1/openapi.json', (c) => c.json(openApiDocument()));

  addInspectorPage(app);
}
