/**
 * The web inspector: sign in with the admin token, manage inspectors, watch the events log and
 * the cards as the phone shows them. Plain DOM, no framework; everything the page shows comes
 * from the same API the CLI uses.
 *
 * Live data is polled (every few seconds while the tab is visible) and only re-rendered when it
 * changed, so keyboard focus and open timelines survive refreshes.
 */
import { Api, ApiError, storedToken, storeToken, type ActivityView, type DeviceView, type EventView, type InspectorCreated, type InspectorRotated, type InspectorView } from './api';
import { cardPreview, startTimers } from './card';
import { byId, copyText, h, replaceChildren, type Child } from './dom';

const POLL_MS = 2500;
const LIST_REFRESH_MS = 15000;
const STATUSES = ['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'];
const OUTCOMES = ['applied', 'duplicate', 'stale', 'rejected', 'reconciled', 'expired', 'flushed', 'token'];
const TEST_OUTCOMES: [string, string][] = [
  ['succeeded', 'ends green'],
  ['failed', 'ends red'],
  ['canceled', 'ends grey'],
  ['running', 'stays running'],
];

interface Revealed {
  inspectorId: string;
  data: InspectorCreated | InspectorRotated;
  snippet: 'curl' | 'javascript' | 'python';
}

const state = {
  api: null as Api | null,
  inspectors: [] as InspectorView[],
  devices: [] as DeviceView[],
  selectedId: null as string | null,
  revealed: null as Revealed | null,
  filters: {} as Record<string, string>,
  events: [] as EventView[],
  eventsCursor: undefined as string | undefined,
  eventsKey: '',
  live: true,
  activities: [] as ActivityView[],
  cards: new Map<string, { json: string; el: HTMLElement }>(),
  openTimelines: new Set<string>(),
  pollTimer: undefined as number | undefined,
  listRefreshedAt: 0,
};

// ───────────────────────────── small helpers ─────────────────────────────

function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('toast');
  el.textContent = message;
  el.className = `toast toast-${kind} toast-show`;
  window.setTimeout(() => {
    if (el.textContent === message) el.className = 'toast';
  }, 5000);
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function timeOfDay(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function timeEl(ms: number, text = timeOfDay(ms)): HTMLElement {
  return h('time', { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString() }, text);
}

function selected(): InspectorView | undefined {
  return state.inspectors.find((i) => i.id === state.selectedId);
}

function deviceName(id: string): string {
  const fromInspector = selected()?.devices.find((d) => d.id === id)?.name;
  return fromInspector ?? state.devices.find((d) => d.id === id)?.name ?? id;
}

function copyButton(text: () => string, label: string, focusKey: string): HTMLButtonElement {
  return h('button', {
    type: 'button',
    className: 'secondary small',
    'data-focus': focusKey,
    'aria-label': label,
    onclick: async () => toast((await copyText(text())) ? 'Copied to the clipboard.' : 'Could not copy: select the text and copy it by hand.'),
  }, 'Copy');
}

/** Runs an API call; a rejected token signs the tab out, other errors become a toast (and are rethrown for forms). */
async function call<T>(work: (api: Api) => Promise<T>, options: { quiet?: boolean } = {}): Promise<T> {
  if (!state.api) throw new ApiError(401, 'unauthorized', 'Not signed in.');
  try {
    return await work(state.api);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut('The admin token was rejected. Sign in again.');
    } else if (!options.quiet) {
      toast(err instanceof Error ? err.message : String(err), 'error');
    }
    throw err;
  }
}

// ───────────────────────────── dialogs ─────────────────────────────

function openDialog(title: string, body: Child, options: { wide?: boolean } = {}): HTMLDialogElement {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h(
    'dialog',
    { className: options.wide ? 'wide' : null, 'aria-labelledby': titleId },
    h('div', { className: 'dialog-head' }, h('h2', { id: titleId }, title), h('button', { type: 'button', className: 'secondary small', 'aria-label': 'Close', onclick: () => dialog.close() }, '✕')),
    body,
  );
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

function showFormError(form: HTMLFormElement, err: unknown): void {
  const box = form.querySelector<HTMLElement>('.form-error');
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const message = err instanceof Error ? err.message : String(err);
  if (box) box.textContent = message;
  if (err instanceof ApiError && err.field) {
    const field = form.querySelector<HTMLElement>(`[name="${CSS.escape(err.field.split('.')[0]!)}"]`);
    field?.setAttribute('aria-invalid', 'true');
    field?.focus();
  }
}

// ───────────────────────────── sign in ─────────────────────────────

function signOut(message?: string): void {
  storeToken(null);
  state.api = null;
  window.clearTimeout(state.pollTimer);
  state.selectedId = null;
  state.revealed = null;
  state.cards.clear();
  renderSignIn(message);
}

function renderSignIn(message?: string): void {
  byId('sign-out').hidden = true;
  const error = h('p', { className: 'form-error', role: 'alert' }, message ?? '');
  const input = h('input', { id: 'admin-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const form = h(
    'form',
    { className: 'panel sign-in', 'aria-labelledby': 'sign-in-h' },
    h('h1', { id: 'sign-in-h' }, 'Sign in'),
    h('p', null, 'Use the admin token. It stays in this tab only and is forgotten when the tab closes.'),
    h('label', { for: 'admin-token' }, 'Admin token'),
    input,
    h('p', { className: 'hint' }, 'Local mode: ', h('code', null, 'adminToken'), ' in ', h('code', null, '.chirp/local.json'), '. On AWS: the ', h('code', null, 'AdminTokenCommand'), ' stack output.'),
    error,
    h('button', { type: 'submit', id: 'sign-in-button' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const api = new Api(token);
    try {
      await api.listInspectors();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? 'That admin token is not valid.' : err instanceof Error ? err.message : String(err);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    storeToken(token);
    await start(api);
  });
  replaceChildren(byId('main'), form);
  input.focus();
}

// ───────────────────────────── the app ─────────────────────────────

async function start(api: Api): Promise<void> {
  state.api = api;
  byId('sign-out').hidden = false;
  replaceChildren(
    byId('main'),
    h(
      'div',
      { className: 'layout' },
      h('aside', { className: 'sidebar', 'aria-labelledby': 'inspectors-h' },
        h('div', { className: 'sidebar-head' }, h('h2', { id: 'inspectors-h' }, 'Inspectors'), h('button', { type: 'button', id: 'new-inspector', onclick: () => void openInspectorForm() }, 'New inspector')),
        h('ul', { id: 'inspector-list', className: 'inspector-list' }),
      ),
      h('section', { id: 'detail', className: 'detail', 'aria-live': 'off' }),
    ),
  );
  try {
    await refreshInspectors();
    state.devices = (await call((a) => a.devices(), { quiet: true })).items;
  } catch (err) {
    if (!state.api) return; // the token was rejected: back at the sign-in form
    toast(err instanceof Error ? err.message : String(err), 'error');
  }
  if (!state.selectedId && state.inspectors[0]) state.selectedId = state.inspectors[0].id;
  renderDetail();
  schedulePoll(0);
}

async function refreshInspectors(): Promise<void> {
  const page = await call((a) => a.listInspectors(), { quiet: true });
  state.inspectors = page.items;
  state.listRefreshedAt = Date.now();
  if (state.selectedId && !state.inspectors.some((i) => i.id === state.selectedId)) state.selectedId = state.inspectors[0]?.id ?? null;
  renderInspectorList();
}

function renderInspectorList(): void {
  const list = document.getElementById('inspector-list');
  if (!list) return;
  const items = state.inspectors.map((insp) => {
    const last = insp.lastEvent ? `Last event ${ago(insp.lastEvent.at)} · ${insp.lastEvent.outcome}` : 'No events yet';
    return h(
      'li',
      null,
      h(
        'button',
        {
          type: 'button',
          className: 'inspector-item',
          'data-focus': `insp-${insp.id}`,
          'aria-current': insp.id === state.selectedId ? 'true' : null,
          onclick: () => select(insp.id),
        },
        h('span', { className: 'insp-name' }, insp.name),
        h('span', { className: 'insp-meta' }, `${insp.devices.length} device${insp.devices.length === 1 ? '' : 's'}${insp.hasSigningSecrets ? ' · signed' : ''} · ${insp.keyHint}`),
        h('span', { className: 'insp-last' }, last),
      ),
    );
  });
  replaceChildren(list, items.length > 0 ? items : h('li', { className: 'empty' }, 'No inspectors yet.'));
}

function select(id: string): void {
  if (state.selectedId === id) return;
  state.selectedId = id;
  state.events = [];
  state.eventsCursor = undefined;
  state.eventsKey = '';
  state.activities = [];
  state.cards.clear();
  state.openTimelines.clear();
  state.filters = {};
  state.live = true;
  if (state.revealed?.inspectorId !== id) state.revealed = null;
  renderInspectorList();
  renderDetail();
  schedulePoll(0);
}

function renderDetail(): void {
  const detail = document.getElementById('detail');
  if (!detail) return;
  const insp = selected();
  if (!insp) {
    replaceChildren(detail, h('div', { className: 'panel empty-state' }, h('h2', null, 'No inspector selected'), h('p', null, 'Create an inspector to get a webhook URL for Replicate.'), h('button', { type: 'button', onclick: () => void openInspectorForm() }, 'New inspector')));
    return;
  }
  replaceChildren(
    detail,
    state.revealed && state.revealed.inspectorId === insp.id ? revealPanel(state.revealed) : null,
    inspectorHeader(insp),
    h('section', { className: 'panel', 'aria-labelledby': 'cards-h' },
      h('div', { className: 'section-head' }, h('h2', { id: 'cards-h' }, 'Cards'), h('p', { className: 'hint' }, 'As the lock screen shows them. Open a timeline to see webhook → state change → push.')),
      h('ul', { id: 'cards', className: 'cards' }),
    ),
    eventsSection(),
  );
  renderCards();
  renderEvents();
}

function inspectorHeader(insp: InspectorView): HTMLElement {
  const testOutcome = h('select', { id: 'test-outcome', name: 'testOutcome' }, TEST_OUTCOMES.map(([value, label]) => h('option', { value }, `${value} (${label})`)));
  const devices = insp.devices.length > 0 ? insp.devices.map((d) => (d.missing ? `${d.id} (removed)` : `${d.name} (${d.environment})`)).join(', ') : 'none: cards go nowhere until you bind a device';
  return h(
    'section',
    { className: 'panel inspector-head', 'aria-labelledby': 'inspector-h' },
    h('h2', { id: 'inspector-h', tabindex: -1 }, insp.name),
    h(
      'dl',
      { className: 'facts' },
      h('div', null, h('dt', null, 'Inspector id'), h('dd', null, h('code', { id: 'inspector-id' }, insp.id), ' ', copyButton(() => insp.id, 'Copy inspector id', 'copy-id'))),
      h('div', null, h('dt', null, 'Webhook URL'), h('dd', null, h('code', { className: 'url' }, insp.webhookUrlHint), h('span', { className: 'hint block' }, 'The full URL is shown once, when the key is made. Lost it? Rotate the key.'))),
      h('div', null, h('dt', null, 'Devices'), h('dd', null, devices)),
      h('div', null, h('dt', null, 'Signatures'), h('dd', null, insp.hasSigningSecrets ? `verified (${insp.signingSecretsCount} secret${insp.signingSecretsCount === 1 ? '' : 's'})` : 'not required (the key alone authenticates)')),
      h('div', null, h('dt', null, 'Reconciliation'), h('dd', null, insp.hasReplicateApiToken ? 'asks Replicate about quiet jobs' : `no Replicate token: quiet jobs end grey after ${insp.hangTimeoutMinutes ?? 60} min`)),
      h('div', null, h('dt', null, 'Last event'), h('dd', { id: 'last-event' }, insp.lastEvent ? [timeEl(insp.lastEvent.at, ago(insp.lastEvent.at)), ` · ${insp.lastEvent.source} · ${insp.lastEvent.outcome}${insp.lastEvent.status ? ` · ${insp.lastEvent.status}` : ''}`] : 'none yet')),
    ),
    h(
      'div',
      { className: 'actions' },
      h('div', { className: 'test-group' },
        h('label', { for: 'test-outcome' }, 'Test job'),
        testOutcome,
        h('button', { type: 'button', id: 'send-test', onclick: () => sendTest(insp.id, testOutcome.value) }, 'Send test card'),
      ),
      h('button', { type: 'button', className: 'secondary', onclick: () => void openInspectorForm(insp) }, 'Settings'),
      h('button', { type: 'button', className: 'secondary', onclick: () => openRotate(insp) }, 'Rotate key'),
      h('button', { type: 'button', className: 'danger', onclick: () => openRevoke(insp) }, 'Revoke'),
    ),
  );
}

// ───────────────────────────── new key panel ─────────────────────────────

function revealPanel(revealed: Revealed): HTMLElement {
  const { data } = revealed;
  const rotated = 'previousKeyValidUntil' in data;
  const snippetCode = h('code', null, data.snippets[revealed.snippet]);
  const tabs = (['curl', 'javascript', 'python'] as const).map((name) =>
    h('button', {
      type: 'button',
      className: 'secondary small',
      'aria-pressed': String(name === revealed.snippet),
      'data-focus': `snippet-${name}`,
      onclick: () => {
        revealed.snippet = name;
        renderDetail();
      },
    }, name === 'javascript' ? 'JavaScript' : name === 'python' ? 'Python' : 'curl'),
  );
  return h(
    'section',
    { className: 'panel reveal', 'aria-labelledby': 'reveal-h' },
    h('h2', { id: 'reveal-h' }, `${rotated ? 'New webhook URL' : 'Webhook URL'} for ${data.name}`),
    h('p', null, h('strong', null, 'Copy it now: '), 'the key in it is shown only this once.', rotated ? ` The old key keeps working until ${new Date((data as InspectorRotated).previousKeyValidUntil * 1000).toLocaleString()}.` : ''),
    h('div', { className: 'copy-row' },
      h('input', { id: 'webhook-url', type: 'text', readonly: true, value: data.webhookUrl, 'aria-label': 'Webhook URL', spellcheck: 'false' }),
      copyButton(() => data.webhookUrl, 'Copy webhook URL', 'copy-url'),
    ),
    h('p', { className: 'hint' }, 'Paste it into a prediction\'s ', h('code', null, 'webhook'), ' field with ', h('code', null, 'webhook_events_filter: ["start","output","logs","completed"]'), ':'),
    h('div', { className: 'snippet-tabs', role: 'group', 'aria-label': 'Snippet language' }, tabs),
    h('pre', { className: 'snippet', tabindex: 0, 'aria-label': `${revealed.snippet} snippet` }, snippetCode),
    h('div', { className: 'actions' },
      copyButton(() => data.snippets[revealed.snippet], 'Copy snippet', 'copy-snippet'),
      h('button', { type: 'button', className: 'secondary', onclick: () => {
        state.revealed = null;
        renderDetail();
        document.getElementById('inspector-h')?.focus();
      } }, 'Done, I saved it'),
    ),
  );
}

// ───────────────────────────── create / settings ─────────────────────────────

function numberField(name: string, label: string, value: number | null | undefined, hint: string, min: number, max: number): HTMLElement[] {
  const id = `f-${name}`;
  return [
    h('label', { for: id }, label),
    h('input', { id, name, type: 'number', inputmode: 'numeric', min, max, step: 1, value: value ?? '', placeholder: 'default', 'aria-describedby': `${id}-hint` }),
    h('p', { className: 'hint', id: `${id}-hint` }, hint),
  ];
}

async function openInspectorForm(existing?: InspectorView): Promise<void> {
  // Devices register themselves from the app at any time: list them fresh for each form.
  try {
    state.devices = (await call((a) => a.devices(), { quiet: true })).items;
  } catch {
    // keep what we had; the form still works without the list
  }
  const editing = existing !== undefined;
  const deviceBoxes = state.devices.map((d) =>
    h('label', { className: 'check' }, h('input', { type: 'checkbox', name: 'deviceIds', value: d.id, checked: existing ? existing.deviceIds.includes(d.id) : state.devices.length === 1 }), ` ${d.name} (${d.environment}${d.simulated ? ', simulated' : ''})`),
  );
  const form = h(
    'form',
    { className: 'form', novalidate: true },
    h('label', { for: 'f-name' }, 'Name'),
    h('input', { id: 'f-name', name: 'name', type: 'text', required: true, maxlength: 80, value: existing?.name ?? '', autocomplete: 'off' }),
    h('fieldset', null, h('legend', null, 'Devices'), deviceBoxes.length > 0 ? deviceBoxes : h('p', { className: 'hint' }, 'No devices registered yet: the iOS app registers itself with POST /v1/devices.')),
    h('details', { open: editing },
      h('summary', null, 'Signatures, reconciliation and limits'),
      h('label', { for: 'f-signingSecrets' }, 'Replicate signing secrets (write-only)'),
      h('textarea', { id: 'f-signingSecrets', name: 'signingSecrets', rows: 2, spellcheck: 'false', placeholder: 'whsec_…, one per line', 'aria-describedby': 'f-signingSecrets-hint' }),
      h('p', { className: 'hint', id: 'f-signingSecrets-hint' }, editing ? `${existing.signingSecretsCount} set. Leave empty to keep them; new ones replace them all.` : 'Optional. With a secret, unsigned webhooks are rejected.'),
      editing && existing.hasSigningSecrets ? h('label', { className: 'check' }, h('input', { type: 'checkbox', name: 'clearSigningSecrets' }), ' Remove all signing secrets') : null,
      h('label', { for: 'f-replicateApiToken' }, 'Replicate API token (write-only)'),
      h('input', { id: 'f-replicateApiToken', name: 'replicateApiToken', type: 'password', autocomplete: 'off', placeholder: editing && existing.hasReplicateApiToken ? '•••••• (set; leave empty to keep)' : 'r8_…', 'aria-describedby': 'f-replicateApiToken-hint' }),
      h('p', { className: 'hint', id: 'f-replicateApiToken-hint' }, 'Lets the sweeper ask Replicate for the real status of a job that went quiet.'),
      editing && existing.hasReplicateApiToken ? h('label', { className: 'check' }, h('input', { type: 'checkbox', name: 'clearReplicateApiToken' }), ' Remove the Replicate token') : null,
      numberField('hangTimeoutMinutes', 'Hang timeout (minutes)', existing?.hangTimeoutMinutes, 'Quiet this long, a card ends grey as expired. Empty: 60 for predictions, the 8-hour rule for trainings.', 5, 470),
      numberField('coalesceSeconds', 'Update interval (seconds)', existing?.coalesceSeconds, 'Minimum time between two update pushes of one card (1–300).', 1, 300),
      numberField('retentionDays', 'Keep events (days)', existing?.retentionDays, '1–90 days.', 1, 90),
      numberField('keepLast', 'Keep last N events', existing?.keepLast, '10–10000.', 10, 10000),
    ),
    h('p', { className: 'form-error', role: 'alert' }),
    h('div', { className: 'actions' }, h('button', { type: 'submit' }, editing ? 'Save' : 'Create inspector')),
  );
  const dialog = openDialog(editing ? `Settings of ${existing.name}` : 'New inspector', form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = formBody(form, existing);
    try {
      if (existing) {
        const updated = await call((a) => a.updateInspector(existing.id, body), { quiet: true });
        state.inspectors = state.inspectors.map((i) => (i.id === updated.id ? updated : i));
        toast('Settings saved.');
      } else {
        const created = await call((a) => a.createInspector(body), { quiet: true });
        const { key: _key, webhookUrl: _url, snippets: _snippets, ...view } = created;
        state.inspectors = [view, ...state.inspectors];
        state.revealed = { inspectorId: created.id, data: created, snippet: 'curl' };
        state.selectedId = null;
        dialog.close();
        select(created.id);
        document.getElementById('webhook-url')?.focus();
        return;
      }
      dialog.close();
      renderInspectorList();
      renderDetail();
    } catch (err) {
      showFormError(form, err);
    }
  });
  form.querySelector<HTMLInputElement>('#f-name')?.focus();
}

function formBody(form: HTMLFormElement, existing: InspectorView | undefined): Record<string, unknown> {
  const data = new FormData(form);
  const text = (name: string): string => String(data.get(name) ?? '').trim();
  const body: Record<string, unknown> = { name: text('name'), deviceIds: data.getAll('deviceIds').map(String) };
  const secrets = text('signingSecrets').split(/[\s,]+/).filter((s) => s.length > 0);
  if (data.get('clearSigningSecrets')) body.signingSecrets = [];
  else if (secrets.length > 0) body.signingSecrets = secrets;
  if (data.get('clearReplicateApiToken')) body.replicateApiToken = null;
  else if (text('replicateApiToken')) body.replicateApiToken = text('replicateApiToken');
  for (const name of ['hangTimeoutMinutes', 'coalesceSeconds', 'retentionDays', 'keepLast'] as const) {
    const value = text(name);
    const before = existing?.[name];
    if (value !== '') {
      if (Number(value) !== before) body[name] = Number(value);
    } else if (name === 'hangTimeoutMinutes' && before !== null && before !== undefined) {
      body[name] = null;
    }
  }
  return body;
}

// ───────────────────────────── rotate / revoke / test ─────────────────────────────

function openRotate(insp: InspectorView): void {
  const grace = h('select', { id: 'f-grace', name: 'grace' },
    h('option', { value: 3600 }, '1 hour'),
    h('option', { value: 86400, selected: true }, '24 hours'),
    h('option', { value: 604800 }, '7 days'),
    h('option', { value: 0 }, 'No grace: the old key stops now'),
  );
  const form = h('form', { className: 'form' },
    h('p', null, 'A new key and webhook URL. Jobs already sent with the old URL keep reporting during the grace period.'),
    h('label', { for: 'f-grace' }, 'Old key keeps working for'),
    grace,
    h('p', { className: 'form-error', role: 'alert' }),
    h('div', { className: 'actions' }, h('button', { type: 'submit' }, 'Rotate key')),
  );
  const dialog = openDialog(`Rotate the key of ${insp.name}`, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const rotated = await call((a) => a.rotate(insp.id, Number(grace.value)), { quiet: true });
      const { key: _key, webhookUrl: _url, snippets: _snippets, previousKeyValidUntil: _until, ...view } = rotated;
      state.inspectors = state.inspectors.map((i) => (i.id === view.id ? view : i));
      state.revealed = { inspectorId: insp.id, data: rotated, snippet: 'curl' };
      dialog.close();
      renderInspectorList();
      renderDetail();
      document.getElementById('webhook-url')?.focus();
    } catch (err) {
      showFormError(form, err);
    }
  });
  grace.focus();
}

function openRevoke(insp: InspectorView): void {
  const form = h('form', { className: 'form' },
    h('p', null, 'Every key of ', h('strong', null, insp.name), ' stops working: Replicate\'s webhooks to it are refused. This cannot be undone.'),
    h('p', { className: 'form-error', role: 'alert' }),
    h('div', { className: 'actions' }, h('button', { type: 'submit', className: 'danger' }, 'Revoke inspector')),
  );
  const dialog = openDialog(`Revoke ${insp.name}?`, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call((a) => a.revoke(insp.id), { quiet: true });
      dialog.close();
      toast(`${insp.name} revoked.`);
      state.inspectors = state.inspectors.filter((i) => i.id !== insp.id);
      state.revealed = null;
      select(state.inspectors[0]?.id ?? '');
      renderDetail();
    } catch (err) {
      showFormError(form, err);
    }
  });
  form.querySelector('button')?.focus();
}

async function sendTest(id: string, outcome: string): Promise<void> {
  const button = document.getElementById('send-test') as HTMLButtonElement | null;
  if (button) button.disabled = true;
  try {
    const result = await call((a) => a.test(id, outcome));
    const pushes = result.steps.reduce((n, s) => n + s.pushes.length, 0);
    toast(`Test job ${result.jobId}: ${result.steps.length} webhooks, ${pushes} push${pushes === 1 ? '' : 'es'}.`);
    schedulePoll(0);
  } catch {
    // reported by call()
  } finally {
    if (button) button.disabled = false;
  }
}

// ───────────────────────────── cards ─────────────────────────────

function deviceStateLine(d: ActivityView['devices'][number]): string {
  const parts = [d.name ?? d.deviceId];
  if (d.stopped) parts.push(`stopped: ${d.stopped}`);
  else if (d.ended) parts.push('ended');
  else if (d.startedAt === undefined) parts.push('not started yet');
  else parts.push(d.hasToken ? (d.upToDate ? 'up to date' : 'update pending') : 'waiting for the update token');
  return parts.join(' · ');
}

function cardItem(activity: ActivityView): HTMLElement {
  const timeline = h('div', { className: 'timeline' }, 'Loading…');
  const details = h('details', { className: 'timeline-box', open: state.openTimelines.has(activity.activityId) },
    h('summary', { 'data-focus': `tl-${activity.activityId}` }, 'Timeline'),
    timeline,
  );
  details.addEventListener('toggle', () => {
    if (details.open) {
      state.openTimelines.add(activity.activityId);
      void loadTimeline(activity.activityId, timeline);
    } else {
      state.openTimelines.delete(activity.activityId);
    }
  });
  if (details.open) void loadTimeline(activity.activityId, timeline);
  return h('li', { className: 'card-item', 'data-activity': activity.activityId },
    cardPreview(activity),
    h('ul', { className: 'device-states' }, activity.devices.map((d) => h('li', null, deviceStateLine(d)))),
    details,
  );
}

function renderCards(): void {
  const list = document.getElementById('cards');
  if (!list) return;
  if (state.activities.length === 0) {
    state.cards.clear();
    replaceChildren(list, h('li', { className: 'empty' }, 'No cards yet. Send a webhook or a test card.'));
    return;
  }
  // Keyed update: unchanged cards keep their element (focus, open timeline, scroll position).
  const next = new Map<string, { json: string; el: HTMLElement }>();
  for (const activity of state.activities) {
    const json = JSON.stringify(activity);
    const previous = state.cards.get(activity.activityId);
    next.set(activity.activityId, previous && previous.json === json ? previous : { json, el: cardItem(activity) });
  }
  const focused = document.activeElement;
  const focusKey = focused && list.contains(focused) ? focused.getAttribute('data-focus') : null;
  state.cards = next;
  list.replaceChildren(...[...next.values()].map((c) => c.el));
  if (focusKey && !list.contains(focused)) list.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
}

function pushLine(p: EventView['pushes'][number]): HTMLElement {
  const ok = p.outcome === 'sent';
  const detail = ok ? `sent via ${p.transport}` : `${p.outcome}${p.status ? ` ${p.status}` : ''}${p.reason ? `: ${p.reason}` : ''} (${p.transport})`;
  return h('li', { className: ok ? 'ok' : p.outcome === 'retry-later' ? 'warn' : 'bad' }, `${p.kind} push → ${deviceName(p.deviceId)}: ${detail}`);
}

/** Log reasons name devices by id; people know them by name. */
function withDeviceNames(text: string): string {
  return text.replace(/\bdev_[a-z0-9]+\b/g, (id) => deviceName(id));
}

function eventHeadline(e: EventView): string {
  if (e.source === 'api') return e.reason ? withDeviceNames(e.reason) : 'update token reported';
  if (e.source === 'sweeper') return `sweeper: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`;
  const what = `webhook${e.event ? ` · ${e.event}` : ''}${e.status ? ` · ${e.status}` : ''}`;
  return e.outcome === 'applied' ? what : `${what} · ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`;
}

async function loadTimeline(activityId: string, into: HTMLElement): Promise<void> {
  const id = state.selectedId;
  if (!id) return;
  try {
    const { timeline } = await call((a) => a.activity(id, activityId), { quiet: true });
    replaceChildren(
      into,
      timeline.length === 0
        ? h('p', { className: 'hint' }, 'No log entries (older than the retention window?).')
        : h('ol', { className: 'tl' }, timeline.map((e) =>
            h('li', { className: `tl-item tl-${e.source}` },
              timeEl(e.at),
              h('div', { className: 'tl-step' }, eventHeadline(e)),
              e.transition ? h('div', { className: 'tl-step tl-state' }, `card: ${e.transition.from ?? 'new'} → ${e.transition.to}`) : null,
              e.pushes.length > 0 ? h('ul', { className: 'tl-pushes' }, e.pushes.map(pushLine)) : null,
            ),
          )),
    );
  } catch (err) {
    replaceChildren(into, h('p', { className: 'form-error' }, err instanceof Error ? err.message : String(err)));
  }
}

// ───────────────────────────── events ─────────────────────────────

/** ISO time → the local "YYYY-MM-DDTHH:MM:SS" a datetime-local input shows. */
function localInputValue(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function eventsSection(): HTMLElement {
  const option = (value: string, label = value) => h('option', { value }, label);
  const status = h('select', { id: 'filter-status', name: 'status' }, option('', 'any'), STATUSES.map((s) => option(s)));
  const outcome = h('select', { id: 'filter-outcome', name: 'outcome' }, option('', 'any'), OUTCOMES.map((s) => option(s)));
  status.value = state.filters.status ?? '';
  outcome.value = state.filters.outcome ?? '';
  const since = h('input', { id: 'filter-since', name: 'since', type: 'datetime-local', step: 1, value: localInputValue(state.filters.since) });
  const until = h('input', { id: 'filter-until', name: 'until', type: 'datetime-local', step: 1, value: localInputValue(state.filters.until) });
  const live = h('input', { id: 'filter-live', name: 'live', type: 'checkbox', checked: state.live });
  live.addEventListener('change', () => {
    state.live = live.checked;
    if (state.live) void loadEvents(false);
  });
  const form = h('form', { className: 'filters', 'aria-label': 'Filter events' },
    h('div', null, h('label', { for: 'filter-status' }, 'Status'), status),
    h('div', null, h('label', { for: 'filter-outcome' }, 'Outcome'), outcome),
    h('div', null, h('label', { for: 'filter-since' }, 'Since'), since),
    h('div', null, h('label', { for: 'filter-until' }, 'Until'), until),
    h('div', { className: 'filter-buttons' },
      h('button', { type: 'submit' }, 'Apply'),
      h('button', { type: 'reset', className: 'secondary' }, 'Clear'),
      h('label', { className: 'check', for: 'filter-live' }, live, ' Live'),
    ),
  );
  const apply = (): void => {
    const iso = (value: string): string => (value ? new Date(value).toISOString() : '');
    state.filters = { status: status.value, outcome: outcome.value, since: iso(since.value), until: iso(until.value) };
    void loadEvents(false);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  form.addEventListener('reset', () => window.setTimeout(apply, 0));
  return h('section', { className: 'panel', 'aria-labelledby': 'events-h' },
    h('div', { className: 'section-head' }, h('h2', { id: 'events-h' }, 'Events'), h('p', { className: 'hint' }, 'Every webhook that arrived, what it did to the card, and what the push transport answered. Newest first.')),
    form,
    h('div', { className: 'table-wrap' },
      h('table', { className: 'events' },
        h('caption', { className: 'offscreen' }, 'Events log'),
        h('thead', null, h('tr', null, ['Time', 'Job', 'What', 'Outcome', 'Card', 'Pushes', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', { id: 'events-body' }),
      ),
    ),
    h('div', { className: 'actions' }, h('button', { type: 'button', id: 'events-more', className: 'secondary', hidden: true, onclick: () => void loadEvents(true) }, 'Load older events')),
  );
}

/** One table cell; the inner div keeps the phone layout (label | content) to two grid items. */
function cell(label: string, ...content: Child[]): HTMLElement {
  return h('td', { 'data-label': label }, h('div', { className: 'cell' }, content));
}

function eventRow(e: EventView, index: number): HTMLElement {
  return h('tr', { className: `outcome-${e.outcome}` },
    cell('Time', timeEl(e.at)),
    cell('Job', e.jobId ? h('code', { className: 'job' }, e.jobId) : '—'),
    cell('What', e.source === 'webhook' ? `webhook${e.event ? ` · ${e.event}` : ''}${e.status ? ` · ${e.status}` : ''}` : e.source === 'api' ? 'token reported' : 'sweeper'),
    cell('Outcome', h('span', { className: `badge badge-${e.outcome}` }, e.outcome), e.reason ? h('span', { className: 'reason' }, withDeviceNames(e.reason)) : null),
    cell('Card', e.transition ? `${e.transition.from ?? 'new'} → ${e.transition.to}` : '—'),
    cell('Pushes', e.pushes.length > 0 ? h('ul', { className: 'pushes' }, e.pushes.map(pushLine)) : '—'),
    h('td', null, h('button', { type: 'button', className: 'secondary small', 'data-focus': `ev-${e.at}-${e.webhookId ?? index}`, 'aria-label': `Details of the event at ${timeOfDay(e.at)}`, onclick: () => openEvent(e) }, 'Details')),
  );
}

function renderEvents(): void {
  const body = document.getElementById('events-body');
  if (!body) return;
  replaceChildren(body, state.events.length > 0 ? state.events.map(eventRow) : h('tr', null, h('td', { colspan: 7, className: 'empty' }, 'No events match.')));
  const more = document.getElementById('events-more');
  if (more) more.hidden = state.eventsCursor === undefined;
}

/**
 * Indents JSON text without parsing it: the log keeps bodies size-capped, so a long one ends in
 * "…" mid-value and would not parse, but it still reads better indented.
 */
function prettyBody(body: string | undefined): string {
  if (body === undefined) return '(no body kept)';
  if (!/^\s*[[{]/.test(body)) return body;
  let out = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  const newline = (): string => `\n${'  '.repeat(Math.max(0, depth))}`;
  for (const ch of body) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      depth += 1;
      out += ch + newline();
    } else if (ch === '}' || ch === ']') {
      depth -= 1;
      out += newline() + ch;
    } else if (ch === ',') {
      out += `,${newline()}`;
    } else if (ch === ':') {
      out += ': ';
    } else if (ch.trim() !== '') {
      out += ch;
    }
  }
  // Empty objects and arrays stay on one line.
  return out.replace(/([[{])\n\s*([\]}])/g, '$1$2');
}

function openEvent(e: EventView): void {
  const row = (term: string, value: Child): HTMLElement | null => (value === undefined || value === null || value === '' ? null : h('div', null, h('dt', null, term), h('dd', null, value)));
  openDialog(
    `Event at ${timeOfDay(e.at)}`,
    h('div', null,
      h('dl', { className: 'facts' },
        row('Received', new Date(e.at).toLocaleString()),
        row('Source', e.source),
        row('Outcome', `${e.outcome}${e.reason ? ` (${e.reason})` : ''}`),
        row('webhook-id', e.webhookId ? h('code', null, e.webhookId) : undefined),
        row('webhook-timestamp', e.webhookTimestamp !== undefined ? `${e.webhookTimestamp} (${new Date(e.webhookTimestamp * 1000).toLocaleString()})` : undefined),
        row('Job', e.jobId ? h('code', null, e.jobId) : undefined),
        row('Activity', e.activityId ? h('code', null, e.activityId) : undefined),
        row('Card', e.transition ? `${e.transition.from ?? 'new'} → ${e.transition.to}` : undefined),
        row('Request id', e.requestId ? h('code', null, e.requestId) : undefined),
      ),
      h('h3', null, 'Pushes'),
      e.pushes.length > 0 ? h('ul', { className: 'pushes' }, e.pushes.map(pushLine)) : h('p', { className: 'hint' }, 'None.'),
      h('h3', null, 'Payload'),
      h('p', { className: 'hint' }, 'As received, without input (prompts) and size-capped.'),
      h('pre', { className: 'payload', tabindex: 0, 'aria-label': 'Payload' }, h('code', null, prettyBody(e.body))),
    ),
    { wide: true },
  );
}

async function loadEvents(more: boolean): Promise<void> {
  const id = state.selectedId;
  if (!id) return;
  if (more) {
    // Paging back freezes the list; live refresh would throw the older pages away.
    state.live = false;
    const live = document.getElementById('filter-live') as HTMLInputElement | null;
    if (live) live.checked = false;
  }
  const query: Record<string, string> = { limit: '50', ...state.filters };
  if (more && state.eventsCursor) query.cursor = state.eventsCursor;
  try {
    const page = await call((a) => a.events(id, query), { quiet: !more });
    if (id !== state.selectedId) return;
    const items = more ? [...state.events, ...page.items] : page.items;
    const key = JSON.stringify([items, page.cursor]);
    state.events = items;
    state.eventsCursor = page.cursor;
    if (key !== state.eventsKey) {
      state.eventsKey = key;
      renderEvents();
    }
  } catch {
    // shown by call(), or retried on the next poll
  }
}

async function loadActivities(): Promise<void> {
  const id = state.selectedId;
  if (!id) return;
  try {
    const page = await call((a) => a.activities(id), { quiet: true });
    if (id !== state.selectedId) return;
    state.activities = page.items;
    renderCards();
  } catch {
    // retried on the next poll
  }
}

async function refreshSelected(): Promise<void> {
  const id = state.selectedId;
  if (!id) return;
  try {
    const view = await call((a) => a.getInspector(id), { quiet: true });
    const before = JSON.stringify(selected());
    state.inspectors = state.inspectors.map((i) => (i.id === view.id ? view : i));
    if (JSON.stringify(view) !== before) {
      renderInspectorList();
      const last = document.getElementById('last-event');
      if (last) replaceChildren(last, view.lastEvent ? [timeEl(view.lastEvent.at, ago(view.lastEvent.at)), ` · ${view.lastEvent.source} · ${view.lastEvent.outcome}${view.lastEvent.status ? ` · ${view.lastEvent.status}` : ''}`] : 'none yet');
    }
  } catch {
    // retried on the next poll
  }
}

// ───────────────────────────── polling ─────────────────────────────

function schedulePoll(delay: number): void {
  window.clearTimeout(state.pollTimer);
  state.pollTimer = window.setTimeout(() => void poll(), delay);
}

async function poll(): Promise<void> {
  if (!state.api) return;
  if (!document.hidden) {
    const work: Promise<void>[] = [loadActivities(), refreshSelected()];
    if (state.live) work.push(loadEvents(false));
    if (Date.now() - state.listRefreshedAt > LIST_REFRESH_MS) work.push(refreshInspectors().catch(() => undefined));
    await Promise.all(work);
  }
  if (state.api) schedulePoll(POLL_MS);
}

// ───────────────────────────── boot ─────────────────────────────

function boot(): void {
  byId('sign-out').addEventListener('click', () => signOut('Signed out.'));
  startTimers();
  const token = storedToken();
  if (token) void start(new Api(token));
  else renderSignIn();
}

boot();
