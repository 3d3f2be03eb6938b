/**
 * The management API (ARCHITECTURE §2.4): thin routes that authenticate, validate, call the
 * core and map results. Errors are mapped in lambda/http/errors.ts.
 */
import type { Hono } from 'hono';
import { registerActivityToken } from '../core/activity-token';
import { registerDevice, removeDevice, updateDevice, type DirectoryDeps } from '../core/directory';
import { ChirpError } from '../core/errors';
import type { IngestDeps } from '../core/ingest-webhook';
import type { Device } from '../core/store-ports';
import { addAdminRoutes } from './admin-routes';
import { authenticate, requireAdmin, requireDevice } from './auth';
import type { AppEnv } from './context';
import { addInspectorRoutes } from './inspector-routes';
import { parseJsonBody } from './json-body';
import { parseQuery } from './query';
import { activityTokenSchema, deviceCreateSchema, deviceUpdateSchema, pageQuerySchema } from './schemas';

export interface CoreDeps extends IngestDeps, DirectoryDeps {
  /** Cheap store round trip for /v1/health. */
  pingStore: () => Promise<void>;
}

/** The API also knows the admin token; the webhook function never reads that secret. */
export interface ApiDeps extends CoreDeps {
  adminToken: string;
  /** Base of the webhook URLs the API hands out (CHIRP_PUBLIC_URL, a tunnel); default: the request's origin. */
  publicUrl?: string;
}

/** A device as the API shows it: never its credential hash. */
export function publicDevice(device: Device): Record<string, unknown> {
  return {
    id: device.id,
    name: device.name,
    environment: device.environment,
    hasPushToStartToken: device.pushToStartToken !== undefined,
    frequentPushesEnabled: device.frequentPushesEnabled,
    createdAt: device.createdAt,
    ...(device.simulated ? { simulated: true } : {}),
  };
}

export function addApiRoutes(app: Hono<AppEnv>, deps: () => Promise<ApiDeps>): void {
  app.get('/v1/health', async (c) => {
    const d = await deps();
    try {
      await d.pingStore();
      return c.json({ ok: true, store: 'reachable' });
    } catch {
      return c.json({ ok: false, store: 'unreachable' }, 503);
    }
  });

  app.post('/v1/devices', async (c) => {
    const d = await deps();
    requireAdmin(c, d.adminToken);
    const input = await parseJsonBody(c, deviceCreateSchema);
    const { device, secret } = await registerDevice(d, input);
    d.resolver.invalidate();
    return c.json({ ...publicDevice(device), secret }, 201);
  });

  app.get('/v1/devices', async (c) => {
    const d = await deps();
    requireAdmin(c, d.adminToken);
    const { limit, cursor } = parseQuery(c, pageQuerySchema);
    const page = await d.keys.listDevices({ limit: limit ?? 50, ...(cursor ? { cursor } : {}) });
    return c.json({ items: page.items.map(publicDevice), ...(page.cursor ? { cursor: page.cursor } : {}) });
  });

  app.patch('/v1/devices/:id', async (c) => {
    const d = await deps();
    const caller = await authenticate(c, d.adminToken, d.keys, d.tagSecret);
    const id = c.req.param('id');
    if (caller.kind === 'device' && caller.deviceId !== id) throw new ChirpError('forbidden', 'A device can only change itself.');
    const changes = await parseJsonBody(c, deviceUpdateSchema);
    const device = await updateDevice(d, id, changes);
    d.resolver.invalidate();
    return c.json(publicDevice(device));
  });

  app.delete('/v1/devices/:id', async (c) => {
    const d = await deps();
    const caller = await authenticate(c, d.adminToken, d.keys, d.tagSecret);
    const id = c.req.param('id');
    if (caller.kind === 'device' && caller.deviceId !== id) throw new ChirpError('forbidden', 'A device can only remove itself.');
    await removeDevice(d, id);
    d.resolver.invalidate();
    return c.body(null, 204);
  });

  app.put('/v1/activities/:activityId/token', async (c) => {
    const d = await deps();
    const deviceId = await requireDevice(c, d.adminToken, d.keys, d.tagSecret);
    const { token } = await parseJsonBody(c, activityTokenSchema);
    const result = await registerActivityToken({ ...d, log: c.get('log') }, { deviceId, activityId: c.req.param('activityId'), token });
    return c.json({ ok: true, activityId: result.activityId, pushes: result.pushes });
  });

  addInspectorRoutes(app, deps);
  addAdminRoutes(app, deps);
}
