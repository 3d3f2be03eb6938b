/**
 * Operator routes. `POST /v1/admin/sweep` (admin) runs one sweeper pass now and answers with its
 * counts; `chirp sweep` calls it. The scheduled sweeper does the same work every minute.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { runSweep, type SweepDeps } from '../core/sweeper';
import type { ApiDeps } from './api-routes';
import { requireAdmin } from './auth';
import type { AppEnv } from './context';
import { parseJsonBody } from './json-body';

/** API Gateway gives up at 30 s: stop starting new activities well before that; the rest wait for the next pass. */
const ADMIN_SWEEP_BUDGET_MS = 20_000;

export const adminSweepSchema = z
  .object({
    maxActivities: z.number().int().min(1).max(1000).optional().describe('Visit at most this many due activities (default 1000)'),
  })
  .strict();

/** `sweep`: the uncached sweeper deps that composeDeps builds; without them the API's own deps are used. */
export function addAdminRoutes(app: Hono<AppEnv>, deps: () => Promise<ApiDeps & { sweep?: SweepDeps }>): void {
  app.post('/v1/admin/sweep', async (c) => {
    const d = await deps();
    requireAdmin(c, d.adminToken);
    const { maxActivities } = await parseJsonBody(c, adminSweepSchema);
    const result = await runSweep(d.sweep ?? d, { deadlineMs: d.clock() + ADMIN_SWEEP_BUDGET_MS, ...(maxActivities ? { maxActivities } : {}) });
    c.get('log').info('admin sweep', { ...result });
    return c.json({ ok: true, ...result });
  });
}
