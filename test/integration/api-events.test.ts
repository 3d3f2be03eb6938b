/**
 * The events log and activities API over real HTTP against the local server: newest first,
 * cursor paging without gaps or repeats, server-side filters (status, outcome, time, activity),
 * the keep-last-N cap, and activities with content-state and per-device push state.
 */
import { activitiesPageSchema, eventsPageSchema, inspectorCreatedSchema, type EventView } from '../../lambda/http/schemas';
import { adminClient, type AdminClient } from '../helpers/admin-client';
import { prediction, startHarness, type Harness } from '../helpers/local-harness';

let h: Harness;
let api: AdminClient;
let inspector: { id: string; webhookUrl: string };

const JOB_A = 'eventsjoba0000000000000000';
const JOB_B = 'eventsjobb0000000000000000';

beforeEach(async () => {
  h = await startHarness();
  api = adminClient(h.server.url, h.server.localJson.adminToken);
  const created = await api.request('POST', '/v1/inspectors', { name: 'Events', deviceIds: [h.server.localJson.devices[0]!.id] });
  inspector = inspectorCreatedSchema.parse(created.json);
});

afterEach(async () => {
  await h.close();
});

/** One webhook per second of the (frozen, hand-advanced) clock, so log order is unambiguous. */
async function send(body: Record<string, unknown>, webhookId: string): Promise<number> {
  h.clock.advance(1);
  const response = await h.post(body, { url: inspector.webhookUrl, headers: { 'webhook-id': webhookId } });
  expect(response.status).toBe(200);
  return h.clock.now;
}

/** Two predictions: A succeeds, B fails; one duplicate delivery; 7 log entries from webhooks (the duplicate included). */
async function traffic(): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  at.aStart = await send(prediction({ id: JOB_A }), 'msg_a1');
  at.aRun = await send(prediction({ id: JOB_A, status: 'processing', started_at: '2026-06-01T12:00:01Z', logs: ' 10%|█         | 1/10' }), 'msg_a2');
  at.bStart = await send(prediction({ id: JOB_B }), 'msg_b1');
  at.aDone = await send(prediction({ id: JOB_A, status: 'succeeded', started_at: '2026-06-01T12:00:01Z', completed_at: '2026-06-01T12:00:09Z', output: ['https://replicate.delivery/a/out.png'], metrics: { predict_time: 8 } }), 'msg_a3');
  at.aDup = await send(prediction({ id: JOB_A, status: 'succeeded', started_at: '2026-06-01T12:00:01Z', completed_at: '2026-06-01T12:00:09Z', output: ['https://replicate.delivery/a/out.png'] }), 'msg_a3');
  at.bFail = await send(prediction({ id: JOB_B, status: 'failed', error: 'CUDA out of memory', completed_at: '2026-06-01T12:00:12Z' }), 'msg_b2');
  at.aLate = await send(prediction({ id: JOB_A, status: 'processing', started_at: '2026-06-01T12:00:01Z' }), 'msg_a4');
  return at;
}

async function events(query = ''): Promise<{ items: EventView[]; cursor?: string; scanned: number }> {
  const response = await api.get(`/v1/inspectors/${inspector.id}/events${query}`);
  expect(response.status).toBe(200);
  return eventsPageSchema.parse(response.json);
}

/** Webhook entries only: the simulated phone's token reports are logged too (source "api"). */
function webhooks(items: EventView[]): EventView[] {
  return items.filter((e) => e.source === 'webhook');
}

describe('the events log', () => {
  it('lists newest first, with the raw body, webhook-id, transition and every push', async () => {
    // prepare
    const at = await traffic();

    // act
    const page = await events('?limit=200');

    // assert
    const hooks = webhooks(page.items);
    expect(hooks.map((e) => e.at)).toEqual([at.aLate, at.bFail, at.aDup, at.aDone, at.bStart, at.aRun, at.aStart]);
    const done = hooks.find((e) => e.webhookId === 'msg_a3' && e.outcome === 'applied')!;
    expect(done).toMatchObject({ outcome: 'applied', status: 'succeeded', event: 'completed', jobId: JOB_A, transition: { from: 'processing', to: 'succeeded' } });
    expect(done.pushes).toEqual([expect.objectContaining({ kind: 'end', outcome: 'sent', transport: 'outbox' })]);
    // Size-capped (it may end in "…"), so compare text rather than parse.
    expect(done.body).toContain(`"id":"${JOB_A}"`);
    expect(done.body).toContain('"status":"succeeded"');
    expect(done.body).not.toContain('SECRET PROMPT');
    expect(hooks[0]).toMatchObject({ outcome: 'stale', status: 'processing' });
    // The duplicate was acknowledged, changed nothing, and has its own line (its only write).
    expect(hooks.filter((e) => e.webhookId === 'msg_a3').map((e) => e.outcome)).toEqual(['duplicate', 'applied']);
    expect(hooks.find((e) => e.outcome === 'duplicate')).toMatchObject({ pushes: [], reason: 'this webhook-id was already applied' });
  });

  it('pages with a cursor: every entry once, in order', async () => {
    // prepare
    await traffic();
    const everything = (await events('?limit=200')).items;

    // act
    const seen: EventView[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await events(`?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 20);

    // assert
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual(everything);
  });

  it('filters by status and outcome (comma-separated), across pages', async () => {
    // prepare
    await traffic();

    // act
    const terminal = await events('?status=succeeded,failed');
    const stale = await events('?outcome=stale');
    const failedOnePerPage = await events('?status=failed&limit=1');

    // assert
    // The completion of A was delivered twice: applied once, then logged as a duplicate.
    expect(terminal.items.map((e) => `${e.status}:${e.outcome}`).sort()).toEqual(['failed:applied', 'succeeded:applied', 'succeeded:duplicate']);
    expect(stale.items.map((e) => e.webhookId)).toEqual(['msg_a4']);
    expect(failedOnePerPage.items.map((e) => e.jobId)).toEqual([JOB_B]);
  });

  it('filters by time: since is inclusive, until exclusive, ISO or epoch ms', async () => {
    // prepare
    const at = await traffic();

    // act
    const window = await events(`?since=${at.aRun}&until=${new Date(at.aDone).toISOString()}`);

    // assert
    expect(webhooks(window.items).map((e) => e.at)).toEqual([at.bStart, at.aRun]);
  });

  it('filters one card\'s timeline by activity id', async () => {
    // prepare
    await traffic();
    const activityId = webhooks((await events('?limit=200')).items).find((e) => e.jobId === JOB_B)!.activityId!;

    // act
    const page = await events(`?activityId=${activityId}`);

    // assert
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((e) => e.activityId === activityId)).toBe(true);
    expect(webhooks(page.items).map((e) => e.status)).toEqual(['failed', 'starting']);
  });

  it('shows at most the inspector\'s keep-last-N newest entries', async () => {
    // prepare
    await api.request('PATCH', `/v1/inspectors/${inspector.id}`, { keepLast: 10, deviceIds: [] });
    for (let i = 0; i < 14; i++) await send(prediction({ id: `keeplast${String(i).padStart(18, '0')}` }), `msg_k${i}`);

    // act
    const all: EventView[] = [];
    let cursor: string | undefined;
    do {
      const page = await events(`?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.items);
      cursor = page.cursor;
    } while (cursor);

    // assert
    expect(all).toHaveLength(10);
    expect(all[0]!.webhookId).toBe('msg_k13');
    expect(all[9]!.webhookId).toBe('msg_k4');
  });

  it('logs rejected deliveries too, so a misconfigured sender is visible', async () => {
    // prepare
    h.clock.advance(1);
    await h.post(null, { url: inspector.webhookUrl, raw: '{"hello": "not a prediction"}' });

    // act
    const page = await events('?outcome=rejected');

    // assert
    expect(page.items).toEqual([expect.objectContaining({ outcome: 'rejected', reason: 'not a prediction or training', body: '{"hello":"not a prediction"}' })]);
  });
});

describe('the activities view', () => {
  it('shows current and recent cards with content-state and per-device push state, never tokens', async () => {
    // prepare
    await traffic();
    await send(prediction({ id: 'eventsjobc0000000000000000', status: 'processing', started_at: '2026-06-01T12:00:20Z' }), 'msg_c1');

    // act
    const all = activitiesPageSchema.parse((await api.get(`/v1/inspectors/${inspector.id}/activities`)).json);
    const active = activitiesPageSchema.parse((await api.get(`/v1/inspectors/${inspector.id}/activities?state=active`)).json);
    const ended = activitiesPageSchema.parse((await api.get(`/v1/inspectors/${inspector.id}/activities?state=ended&limit=1`)).json);

    // assert
    expect(all.items).toHaveLength(3);
    expect(active.items.map((a) => a.jobId)).toEqual(['eventsjobc0000000000000000']);
    expect(active.items[0]).toMatchObject({ status: 'processing', statusWord: 'RUNNING', color: 'blue', terminal: false });
    expect(ended.items).toHaveLength(1);
    expect(ended.cursor).toEqual(expect.any(String));
    const a = all.items.find((x) => x.jobId === JOB_A)!;
    expect(a).toMatchObject({
      status: 'succeeded',
      statusWord: 'SUCCEEDED',
      color: 'green',
      attributes: { provider: 'replicate', jobId: JOB_A, model: 'meta/meta-llama-3-8b-instruct', inspector: 'Events' },
      contentState: { status: 'succeeded', predictTime: 8, detail: '1 image' },
    });
    expect(a.devices).toEqual([expect.objectContaining({ name: 'Simulated iPhone', hasToken: true, ended: true, upToDate: true })]);
    expect(all.items.find((x) => x.jobId === JOB_B)).toMatchObject({ color: 'red', contentState: { error: 'CUDA out of memory' } });
    expect(JSON.stringify(all)).not.toMatch(/"token"/);
  });

  it('gives one card with its timeline: webhook → state change → push outcome, oldest first', async () => {
    // prepare
    await traffic();
    const a = activitiesPageSchema.parse((await api.get(`/v1/inspectors/${inspector.id}/activities`)).json).items.find((x) => x.jobId === JOB_A)!;

    // act
    const response = await api.get(`/v1/inspectors/${inspector.id}/activities/${a.activityId}`);
    const other = await api.get(`/v1/inspectors/${h.server.localJson.inspectors[0]!.id}/activities/${a.activityId}`);

    // assert
    expect(response.status).toBe(200);
    const { timeline } = response.json as { timeline: EventView[] };
    expect(timeline.map((e) => e.at)).toEqual([...timeline.map((e) => e.at)].sort((x, y) => x - y));
    const hooks = webhooks(timeline);
    expect(hooks.map((e) => `${e.status}:${e.outcome}`)).toEqual(['starting:applied', 'processing:applied', 'succeeded:applied', 'succeeded:duplicate', 'processing:stale']);
    expect(hooks[0]!.pushes).toEqual([expect.objectContaining({ kind: 'start', outcome: 'sent' })]);
    expect(hooks[2]).toMatchObject({ transition: { from: 'processing', to: 'succeeded' }, pushes: [expect.objectContaining({ kind: 'end', outcome: 'sent' })] });
    // The phone reported its update token right after the start push (same instant on the frozen clock).
    expect(timeline.filter((e) => e.source === 'api')).toEqual([expect.objectContaining({ outcome: 'token', at: hooks[0]!.at })]);
    expect(other.status).toBe(404);
  });
});
