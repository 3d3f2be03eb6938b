/**
 * The web inspector in headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * the real local server: sign in with the admin token, create an inspector, send a Replicate
 * lifecycle to its webhook URL, and watch the events table fill and the card preview go from
 * RUNNING to a green end. Screenshots land in test-artifacts/ (gitignored).
 *
 * Without Chromium this test fails (it never skips): install it with `apt-get install -y chromium`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startLocalServer, type LocalServer } from '../../local/local-server';

jest.setTimeout(90_000);

const ARTIFACTS = resolve(__dirname, '../../test-artifacts');

function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium is not installed, and the web inspector test needs it: run `apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH).');
  }
}

let server: LocalServer;
let dataDir: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

/** playwright-core has no test runner: polling assertions on locators (values use Jest's `expect`). */
interface LocatorMatchers {
  toHaveText(expected: string | RegExp): Promise<void>;
  toContainText(expected: string): Promise<void>;
  not: { toContainText(expected: string): Promise<void> };
  toHaveClass(expected: RegExp): Promise<void>;
  toHaveCount(expected: number): Promise<void>;
  toBeVisible(): Promise<void>;
  toBeFocused(): Promise<void>;
}

function see(locator: Locator): LocatorMatchers {
  const poll = async (what: string, check: () => Promise<boolean>, describe: () => Promise<string>): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`expected ${locator} ${what}; got ${await describe().catch((e: Error) => e.message)}`);
  };
  const text = async () => ((await locator.first().textContent({ timeout: 1000 })) ?? '').trim();
  return {
    toHaveText: (expected) => poll(`to have text ${String(expected)}`, async () => (typeof expected === 'string' ? (await text()) === expected : expected.test(await text())), text),
    toContainText: (expected) => poll(`to contain ${expected}`, async () => (await text()).includes(expected), text),
    not: { toContainText: (expected) => poll(`not to contain ${expected}`, async () => !(await text()).includes(expected), text) },
    toHaveClass: (expected) => poll(`to have class ${String(expected)}`, async () => expected.test((await locator.first().getAttribute('class', { timeout: 1000 })) ?? ''), async () => (await locator.first().getAttribute('class')) ?? ''),
    toHaveCount: (expected) => poll(`to have count ${expected}`, async () => (await locator.count()) === expected, async () => String(await locator.count())),
    toBeVisible: () => poll('to be visible', () => locator.first().isVisible(), async () => 'not visible'),
    toBeFocused: () => poll('to be focused', () => locator.first().evaluate((el) => el === document.activeElement), async () => 'not focused'),
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chirp-browser-'));
  // The real clock: the page's elapsed timer counts from the server's timestamps with the browser's clock.
  server = await startLocalServer({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'SILENT' });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // CSP violations and script errors show up here; the page must have none.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[14]/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function snapshot(id: string, status: string, extra: Record<string, unknown> = {}): string {
  const created = new Date(Date.now() - 4000).toISOString();
  return JSON.stringify({
    id,
    model: 'black-forest-labs/flux-schnell',
    version: 'hidden',
    input: { prompt: 'never shown' },
    urls: { get: `https://api.replicate.com/v1/predictions/${id}`, web: `https://replicate.com/p/${id}` },
    created_at: created,
    status,
    output: null,
    logs: '',
    error: null,
    started_at: status === 'starting' ? null : new Date(Date.now() - 3000).toISOString(),
    completed_at: null,
    metrics: {},
    ...extra,
  });
}

async function deliver(webhookUrl: string, body: string, webhookId: string): Promise<void> {
  const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': webhookId }, body });
  expect(response.status).toBe(200);
  await server.settle();
}

it('signs in, creates an inspector, and shows a webhook lifecycle as events and a card that ends green', async () => {
  // prepare: sign in
  await page.goto(`${server.url}/inspector`);
  // keyboard only: the token field has focus, Enter submits
  await see(page.getByLabel('Admin token')).toBeFocused();
  await page.keyboard.type(server.localJson.adminToken);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Inspectors' }).waitFor();

  // act: create an inspector bound to the simulated iPhone
  await page.getByRole('button', { name: 'New inspector' }).first().click();
  await page.getByLabel('Name').fill('Image team');
  await page.getByRole('checkbox', { name: /Simulated iPhone/ }).check();
  await page.getByRole('button', { name: 'Create inspector' }).click();
  const urlField = page.getByRole('textbox', { name: 'Webhook URL' });
  await urlField.waitFor();
  const webhookUrl = await urlField.inputValue();

  // assert: the new key's URL, once, with snippets
  expect(webhookUrl).toMatch(new RegExp(`^${server.url}/v1/webhooks/replicate\\?key=chirp_wh_`));
  expect(await page.locator('pre.snippet').textContent()).toContain('webhook_events_filter');

  // act: start → processing
  const jobId = 'browsertest00000000000000a';
  await deliver(webhookUrl, snapshot(jobId, 'starting'), 'msg_browser_1');
  await deliver(webhookUrl, snapshot(jobId, 'processing', { logs: ' 40%|████      | 4/10 [00:02<00:03,  2.00it/s]' }), 'msg_browser_2');

  // assert: a running card
  const card = page.locator('.la-card').filter({ hasText: jobId });
  await see(card.locator('.la-header')).toHaveText('Replicate · RUNNING');
  await see(card).toHaveClass(/la-blue/);
  await see(card.locator('.la-model')).toHaveText('black-forest-labs/flux-schnell');
  await see(card.locator('.la-timer')).toHaveText(/^\d+:\d\d$/);
  await page.screenshot({ path: join(ARTIFACTS, 'inspector-running.png'), fullPage: true });

  // act: the end
  await deliver(webhookUrl, snapshot(jobId, 'succeeded', { output: ['https://replicate.delivery/x/out-0.webp', 'https://replicate.delivery/x/out-1.webp'], completed_at: new Date().toISOString(), metrics: { predict_time: 2.8 } }), 'msg_browser_3');

  // assert: green end, and the events table with what each webhook did
  await see(card.locator('.la-header')).toHaveText('Replicate · SUCCEEDED');
  await see(card).toHaveClass(/la-green/);
  await see(card.locator('.la-detail')).toHaveText('2 images');
  const rows = page.locator('#events-body tr').filter({ hasText: jobId });
  await see(rows.filter({ hasText: 'succeeded' }).first()).toBeVisible();
  await see(rows.filter({ hasText: 'processing → succeeded' })).toHaveCount(1);
  await see(rows.filter({ hasText: 'end push → Simulated iPhone: sent via outbox' })).toHaveCount(1);

  // act: the timeline of that card, and one event's payload
  await card.locator('xpath=..').getByText('Timeline').click();
  await see(page.locator('.tl-item').filter({ hasText: 'start push → Simulated iPhone: sent via outbox' })).toHaveCount(1);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'inspector-desktop.png'), fullPage: true });
  await rows.filter({ hasText: 'processing → succeeded' }).getByRole('button', { name: 'Details' }).click();
  const dialog = page.getByRole('dialog');
  await see(dialog.locator('pre.payload')).toContainText(`"id": "${jobId}"`);
  await see(dialog).toContainText('msg_browser_3');
  await see(dialog).not.toContainText('never shown');
  await page.keyboard.press('Escape');
  await see(dialog).toHaveCount(0);

  // phone-sized screen
  await page.setViewportSize({ width: 390, height: 844 });
  await see(card).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'inspector-phone.png'), fullPage: true });

  expect(problems).toEqual([]);
});
