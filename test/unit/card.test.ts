import fc from 'fast-check';
import {
  buildApnsPayload,
  cardColor,
  DETAIL_MAX_CODE_POINTS,
  endAlert,
  formatDuration,
  parseTqdmProgress,
  startAlert,
  statusWord,
  summarizeSnapshot,
} from '../../lambda/core/card';
import {
  ATTRIBUTES_TYPE,
  MAX_PAYLOAD_BYTES,
  type ApnsAlert,
  type CardAttributes,
  type CardStatus,
  type ContentState,
  type PushKind,
} from '../../lambda/core/live-activity';
import { snapshotFromObject, type ReplicateSnapshot } from '../../lambda/core/replicate-payload';

// ───────────────────────────── helpers ─────────────────────────────

const JOB_ID = 'q7m2c5ht9drgc0cmxbdvmw3q4r';

function snapshot(overrides: Partial<ReplicateSnapshot> = {}): ReplicateSnapshot {
  return {
    kind: 'prediction',
    id: JOB_ID,
    status: 'processing',
    model: 'meta/meta-llama-3-8b-instruct',
    version: null,
    output: null,
    outputLength: 0,
    logs: '',
    error: null,
    createdAt: 1748779200,
    startedAt: 1748779201,
    completedAt: null,
    predictTime: null,
    dataRemoved: false,
    webUrl: `https://replicate.com/p/${JOB_ID}`,
    ...overrides,
  };
}

function attributes(overrides: Partial<CardAttributes> = {}): CardAttributes {
  return {
    activityId: 'act_01',
    provider: 'replicate',
    jobId: JOB_ID,
    model: 'meta/meta-llama-3-8b-instruct',
    inspector: 'replicate-prod',
    webUrl: `https://replicate.com/p/${JOB_ID}`,
    ...overrides,
  };
}

function contentState(overrides: Partial<ContentState> = {}): ContentState {
  return { status: 'processing', startedAt: 1748779201, createdAt: 1748779200, ...overrides };
}

function codePoints(text: string): number {
  return Array.from(text).length;
}

/** True when the string survives UTF-8 unchanged, i.e. it has no lone surrogate. */
function isWellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Every key and string value inside a JSON value. */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...allStrings(inner)]);
  }
  return [];
}

/** What APNs would receive, parsed back, with every string checked for well-formed UTF-8. */
function expectValidWire(payload: unknown, bytes: number): unknown {
  const wire = JSON.stringify(payload);
  expect(Buffer.byteLength(wire, 'utf8')).toBe(bytes);
  expect(bytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  const parsed: unknown = JSON.parse(wire);
  for (const text of allStrings(parsed)) expect(isWellFormed(text)).toBe(true);
  return parsed;
}

// ───────────────────────────── parseTqdmProgress ─────────────────────────────

describe('parseTqdmProgress', () => {
  it('reads the percent form with counts', () => {
    // prepare
    const logs = '  45%|████▌     | 9/20 [00:01<00:02, 7.2it/s]';
    // act
    const progress = parseTqdmProgress(logs);
    // assert
    expect(progress).toBeCloseTo(0.45);
  });

  it('prefers current/total over the rounded percent', () => {
    const logs = '  33%|███▎      | 1/3 [00:01<00:02,  1.00it/s]';

    const progress = parseTqdmProgress(logs);

    expect(progress).toBeCloseTo(1 / 3, 10);
  });

  it('falls back to the percent when a bar has no counts', () => {
    const progress = parseTqdmProgress(' 70%|███████   |');

    expect(progress).toBeCloseTo(0.7);
  });

  it('takes the latest \\r redraw of a bar', () => {
    const logs = '\r  0%|          | 0/20 [00:00<?, ?it/s]\r 25%|██▌       | 5/20 [00:01<00:03]\r 50%|█████     | 10/20 [00:02<00:02]';

    const progress = parseTqdmProgress(logs);

    expect(progress).toBeCloseTo(0.5);
  });

  it('takes the last bar of a real multi-bar log and skips the text lines after it', () => {
    const logs = [
      'Using seed: 40311',
      'Loading pipeline components...:   0%|          | 0/7 [00:00<?, ?it/s]\rLoading pipeline components...:  43%|████▎     | 3/7 [00:00<00:00,  9.58it/s]\rLoading pipeline components...: 100%|██████████| 7/7 [00:01<00:00,  6.19it/s]',
      'txt2img mode',
      '  0%|          | 0/50 [00:00<?, ?it/s]\r  2%|▏         | 1/50 [00:00<00:19,  2.48it/s]\r 24%|██▍       | 12/50 [00:03<00:09,  3.95it/s]',
      'prompt echo: a photo of an astronaut riding a horse',
      '',
    ].join('\n');

    const progress = parseTqdmProgress(logs);

    expect(progress).toBeCloseTo(12 / 50);
  });

  it('accepts a tqdm desc prefix, so a loading bar that comes last is the progress', () => {
    const logs = 'Loading checkpoint shards:  50%|█████     | 1/2 [00:03<00:03,  3.10s/it]\r\n';

    const progress = parseTqdmProgress(logs);

    expect(progress).toBeCloseTo(0.5);
  });

  it.each([
    ['empty logs', ''],
    ['plain text', 'Loading model...\nDone.'],
    ['a percent without a bar', 'progress: 45% done'],
    ['counts without a bar', 'step 9/20'],
    ['an unknown-total tqdm counter', '9it [00:01,  7.20it/s]'],
    ['a total of 0', '  0%|          | 0/0 [00:00<?, ?it/s]'],
    ['counts too long for a double', `  5%|▌         | ${'9'.repeat(309)}/${'9'.repeat(309)}`],
  ])('gives undefined for %s', (_name, logs) => {
    const progress = parseTqdmProgress(logs);

    expect(progress).toBeUndefined();
  });

  it('gives undefined when the latest bar has total 0, not an older bar', () => {
    const logs = ' 50%|█████     | 10/20\n  0%|          | 0/0';

    expect(parseTqdmProgress(logs)).toBeUndefined();
  });

  it('clamps overshooting bars to 1', () => {
    const logs = '120%|██████████| 24/20 [00:05<00:00]';

    expect(parseTqdmProgress(logs)).toBe(1);
  });

  it('finds a bar before a huge line of garbage at the end of a large log', () => {
    const logs = `${'x'.repeat(1_000_000)}\n 10%|█         | 2/20\n${'1'.repeat(200_000)}%|\n${' '.repeat(100_000)}`;

    const progress = parseTqdmProgress(logs);

    // A 200 KB line is not a redraw of a bar, even if it ends like one.
    expect(progress).toBeCloseTo(0.1);
  });
});

// ───────────────────────────── summarizeSnapshot ─────────────────────────────

describe('summarizeSnapshot', () => {
  describe('failed', () => {
    it('shows the first non-empty line of the error as detail and error', () => {
      const snap = snapshot({ status: 'failed', error: '\n   \nRuntimeError:  CUDA out of memory.\tTried to allocate 2 GiB\nTraceback (most recent call last):\n  ...' });

      const summary = summarizeSnapshot(snap);

      expect(summary).toEqual({
        detail: 'RuntimeError: CUDA out of memory. Tried to allocate 2 GiB',
        error: 'RuntimeError: CUDA out of memory. Tried to allocate 2 GiB',
      });
    });

    it('cuts a long first line to 120 code points, keeping its start', () => {
      const snap = snapshot({ status: 'failed', error: `ValueError: ${'bad value '.repeat(100)}\nsecond line` });

      const summary = summarizeSnapshot(snap);

      expect(codePoints(summary.error ?? '')).toBeLessThanOrEqual(DETAIL_MAX_CODE_POINTS);
      expect(summary.error?.startsWith('ValueError: bad value')).toBe(true);
      expect(summary.error?.endsWith('…')).toBe(true);
      expect(summary.detail).toBe(summary.error);
    });

    it('handles a 1 MB single-line error', () => {
      const snap = snapshot({ status: 'failed', error: `${' '.repeat(10_000)}E${'x'.repeat(1_000_000)}` });

      const summary = summarizeSnapshot(snap);

      expect(summary.error?.startsWith('Exxx')).toBe(true);
      expect(codePoints(summary.error ?? '')).toBe(DETAIL_MAX_CODE_POINTS);
    });

    it('has no detail, error or progress when the error is empty', () => {
      const snap = snapshot({ status: 'failed', error: null, logs: '100%|██████████| 5/5' });

      expect(summarizeSnapshot(snap)).toEqual({});
    });
  });

  describe('streaming text', () => {
    it('joins the tokens', () => {
      const snap = snapshot({ output: ['Hello', '!', ' How', ' can'] });

      expect(summarizeSnapshot(snap)).toEqual({ detail: 'Hello! How can' });
    });

    it('collapses whitespace and trims', () => {
      const snap = snapshot({ output: ['\n\nFirst', ' line\n\n\n', '\tsecond   line  '] });

      expect(summarizeSnapshot(snap).detail).toBe('First line second line');
    });

    it('shows the tail of a several-KB output with a leading ellipsis', () => {
      const tokens = Array.from({ length: 2000 }, (_, i) => ` word${i}`);

      const detail = summarizeSnapshot(snapshot({ status: 'succeeded', output: tokens })).detail ?? '';

      expect(detail.startsWith('…')).toBe(true);
      expect(detail.endsWith('word1998 word1999')).toBe(true);
      expect(codePoints(detail)).toBeLessThanOrEqual(DETAIL_MAX_CODE_POINTS);
    });

    it('finds the text before a long whitespace run at the end', () => {
      const text = `${'a'.repeat(10_000)} the end${' \n'.repeat(10_000)}`;

      const detail = summarizeSnapshot(snapshot({ output: [text] })).detail ?? '';

      expect(detail.endsWith('a the end')).toBe(true);
      expect(codePoints(detail)).toBe(DETAIL_MAX_CODE_POINTS);
    });

    it('has no detail for whitespace-only output', () => {
      expect(summarizeSnapshot(snapshot({ output: ['  ', '\n'] })).detail).toBeUndefined();
    });
  });

  describe('single string output', () => {
    it('shows the tail of text', () => {
      const snap = snapshot({ status: 'succeeded', output: `${'x'.repeat(500)} final words` });

      const detail = summarizeSnapshot(snap).detail ?? '';

      expect(detail.startsWith('…')).toBe(true);
      expect(detail.endsWith('x final words')).toBe(true);
      expect(codePoints(detail)).toBe(DETAIL_MAX_CODE_POINTS);
    });

    it('says "1 file" for a URL', () => {
      const snap = snapshot({ status: 'succeeded', output: 'https://replicate.delivery/pbxt/abc/out-0.webp' });

      expect(summarizeSnapshot(snap).detail).toBe('1 file');
    });
  });

  describe('file arrays', () => {
    it.each([
      [['https://replicate.delivery/a/out-0.png', 'https://replicate.delivery/a/out-1.JPG'], '2 images'],
      [['https://replicate.delivery/a/out-0.webp'], '1 image'],
      [['https://replicate.delivery/a/clip.mp4'], '1 video'],
      [['https://replicate.delivery/a/clip.webm', 'https://x.test/b.mov?sig=1'], '2 videos'],
      [['https://x.test/a.wav', 'https://x.test/b.mp3?download=1', 'https://x.test/c.flac#t=1'], '3 audio files'],
      [['https://x.test/a.png', 'https://x.test/b.mp4', 'https://x.test/c.wav', 'https://x.test/d.txt'], '4 files'],
      [['https://x.test/weights.tar', 'https://x.test/dir.v2/readme'], '2 files'],
      [['data:image/png;base64,iVBORw0KGgo=', 'data:image/jpeg;base64,/9j/4AAQ'], '2 images'],
    ])('describes %j as %s', (output, expected) => {
      const snap = snapshot({ status: 'succeeded', output, outputLength: output.length });

      expect(summarizeSnapshot(snap).detail).toBe(expected);
    });
  });

  describe('objects', () => {
    it('says "new version ready" for a training output with a version', () => {
      const snap = snapshot({ kind: 'training', status: 'succeeded', output: { version: 'owner/model:abc123', weights: 'https://x.test/w.tar' } });

      expect(summarizeSnapshot(snap).detail).toBe('new version ready');
    });

    it.each([
      ['an object without version', { weights: 'https://x.test/w.tar' }],
      ['a null version', { version: null, weights: null }],
      ['an array of objects', [{ file: 'https://x.test/a.png' }]],
      ['an array of numbers (embeddings)', [0.1, 0.2, 0.3]],
      ['an empty array', []],
    ])('has no detail for %s', (_name, output) => {
      expect(summarizeSnapshot(snapshot({ status: 'succeeded', output })).detail).toBeUndefined();
    });
  });

  describe('statuses', () => {
    it('says "output removed" when data was removed and output is null', () => {
      const snap = snapshot({ status: 'succeeded', output: null, dataRemoved: true });

      expect(summarizeSnapshot(snap).detail).toBe('output removed');
    });

    it('says "canceled" for canceled, even with partial output', () => {
      const snap = snapshot({ status: 'canceled', output: ['partial', ' text'], logs: ' 50%|█████     | 5/10' });

      expect(summarizeSnapshot(snap)).toEqual({ detail: 'canceled' });
    });

    it('says "deadline reached before start" for aborted', () => {
      expect(summarizeSnapshot(snapshot({ status: 'aborted', startedAt: null }))).toEqual({ detail: 'deadline reached before start' });
    });

    it.each(['starting', 'processing'])('has no detail for %s with no output', (status) => {
      expect(summarizeSnapshot(snapshot({ status, output: null }))).toEqual({});
    });
  });

  describe('progress', () => {
    it('comes from the logs while running', () => {
      const snap = snapshot({ logs: 'Using seed: 1\n 40%|████      | 20/50 [00:05<00:07]' });

      expect(summarizeSnapshot(snap).progress).toBeCloseTo(0.4);
    });

    it('is 1 on succeeded when the logs had a bar, whatever its last redraw said', () => {
      const snap = snapshot({ status: 'succeeded', logs: ' 96%|█████████▌| 48/50 [00:12<00:00]' });

      expect(summarizeSnapshot(snap).progress).toBe(1);
    });

    it('is omitted on succeeded without a bar', () => {
      expect(summarizeSnapshot(snapshot({ status: 'succeeded', output: ['hi'], logs: 'done' }))).toEqual({ detail: 'hi' });
    });

    it.each(['failed', 'canceled', 'aborted'])('is omitted on %s', (status) => {
      const snap = snapshot({ status, error: 'boom', logs: ' 50%|█████     | 5/10' });

      expect(summarizeSnapshot(snap).progress).toBeUndefined();
    });
  });

  it('never shows the input or the logs, from a real Replicate body', () => {
    // prepare: the prompt is in `input` and echoed in the logs, as models do
    const body = {
      id: JOB_ID,
      model: 'stability-ai/sdxl',
      input: { prompt: 'SECRET-PROMPT a fan and a clock' },
      status: 'processing',
      output: null,
      logs: 'prompt: SECRET-PROMPT a fan and a clock\n 20%|██        | 5/25 [00:01<00:04]',
      error: null,
      created_at: '2025-06-01T12:00:00.000000Z',
      urls: { web: `https://replicate.com/p/${JOB_ID}` },
    };
    // act
    const running = summarizeSnapshot(snapshotFromObject(body));
    const failed = summarizeSnapshot(snapshotFromObject({ ...body, status: 'failed', error: 'NSFW content detected' }));
    // assert
    expect(running).toEqual({ progress: 0.2 });
    expect(JSON.stringify([running, failed])).not.toContain('SECRET');
    expect(failed.detail).toBe('NSFW content detected');
  });

  it('summarizes the reference image example as "2 images" with full progress', () => {
    const body = {
      id: 't0f9kq1b3hrj20cmxbe1m4zq7c',
      model: 'stability-ai/sdxl',
      status: 'succeeded',
      output: [
        'https://replicate.delivery/pbxt/VJyWBjIYgqqCCBEhpkCqdevTgAJbl4fg62aO4o9A0x85CgNSA/out-0.png',
        'https://replicate.delivery/pbxt/Xk2pQ8mT4aZr7LcN1sWvE9hYbU3dFgJ6oRiPq0KtCwMn5Ae/out-1.png',
      ],
      logs: 'Using seed: 12345\n  0%|          | 0/25 [00:00<?, ?it/s]\n100%|██████████| 25/25 [00:03<00:00,  7.20it/s]\n',
      metrics: { predict_time: 4.7, total_time: 5.9 },
    };

    expect(summarizeSnapshot(snapshotFromObject(body))).toEqual({ detail: '2 images', progress: 1 });
  });

  describe('unicode', () => {
    it('never splits an emoji when taking a tail', () => {
      const detail = summarizeSnapshot(snapshot({ output: ['😀'.repeat(300)] })).detail ?? '';

      expect(detail).toBe(`…${'😀'.repeat(DETAIL_MAX_CODE_POINTS - 1)}`);
      expect(isWellFormed(detail)).toBe(true);
    });

    it('does not start a tail with an orphan combining mark', () => {
      // 'e' + COMBINING ACUTE, 2 code points each: a cut at 119 code points lands between them
      const detail = summarizeSnapshot(snapshot({ output: ['e\u0301'.repeat(200)] })).detail ?? '';

      expect(detail.startsWith('…e\u0301')).toBe(true);
      expect(codePoints(detail)).toBeLessThanOrEqual(DETAIL_MAX_CODE_POINTS);
    });

    it('does not leave a dangling ZWJ or half a family emoji at the end of a cut error', () => {
      const family = '👩\u200D👩\u200D👧';
      const error = `${'x'.repeat(115)}${family.repeat(5)}`;

      const line = summarizeSnapshot(snapshot({ status: 'failed', error })).error ?? '';

      expect(line.endsWith('\u200D…')).toBe(false);
      expect(line).toBe(`${'x'.repeat(115)}…`);
    });

    it('keeps CJK, emoji and combining text well-formed and within 120 code points', () => {
      const text = '日本語のテキスト🎉 café ñ 👍🏽 '.repeat(40);

      const detail = summarizeSnapshot(snapshot({ output: text.split('') })).detail ?? '';

      expect(isWellFormed(detail)).toBe(true);
      expect(codePoints(detail)).toBeLessThanOrEqual(DETAIL_MAX_CODE_POINTS);
      expect(detail.endsWith('café ñ 👍🏽')).toBe(true);
    });

    it('replaces lone surrogates from a hostile output', () => {
      const detail = summarizeSnapshot(snapshot({ output: ['ok \uD83D', ' and \uDE00 end'] })).detail ?? '';

      expect(isWellFormed(detail)).toBe(true);
      expect(detail).toBe('ok \uFFFD and \uFFFD end');
    });
  });
});

// ───────────────────────────── buildApnsPayload ─────────────────────────────

describe('buildApnsPayload', () => {
  const T = 1748779260;

  it('builds a start with attributes-type, attributes, alert, input-push-token and stale-date', () => {
    const attrs = attributes();
    const state = contentState({ status: 'starting' });

    const { payload, bytes, truncated } = buildApnsPayload({
      event: 'start',
      contentState: state,
      timestamp: T,
      attributes: attrs,
      alert: startAlert(attrs, state),
      staleDate: T + 900,
      dismissalDate: T + 60,
      inputPushToken: true,
    });

    expect(payload).toStrictEqual({
      aps: {
        timestamp: T,
        event: 'start',
        'content-state': { status: 'starting', startedAt: 1748779201, createdAt: 1748779200 },
        'attributes-type': ATTRIBUTES_TYPE,
        attributes: attrs,
        alert: { title: 'Replicate · STARTING', body: `meta/meta-llama-3-8b-instruct · ${JOB_ID}` },
        'stale-date': T + 900,
        'input-push-token': 1,
      },
    });
    expect(truncated).toBe(false);
    expectValidWire(payload, bytes);
  });

  it('leaves input-push-token out unless asked', () => {
    const attrs = attributes();

    const { payload } = buildApnsPayload({ event: 'start', contentState: contentState(), timestamp: T, attributes: attrs, alert: startAlert(attrs, contentState()) });

    expect('input-push-token' in payload.aps).toBe(false);
  });

  it.each([
    ['alert', { attributes: attributes() }],
    ['attributes', { alert: { title: 'Replicate · RUNNING', body: 'm' } }],
  ])('throws on a start without %s', (_missing, extra) => {
    expect(() => buildApnsPayload({ event: 'start', contentState: contentState(), timestamp: T, ...extra })).toThrow(Error);
  });

  it('builds an update with stale-date and no attributes or dismissal-date', () => {
    const state = contentState({ progress: 0.4, detail: 'Hello! How can' });

    const { payload, bytes } = buildApnsPayload({
      event: 'update',
      contentState: state,
      timestamp: T,
      attributes: attributes(),
      staleDate: T + 900,
      dismissalDate: T + 60,
      inputPushToken: true,
    });

    expect(payload).toStrictEqual({ aps: { timestamp: T, event: 'update', 'content-state': state, 'stale-date': T + 900 } });
    expectValidWire(payload, bytes);
  });

  it('builds an end with dismissal-date and no stale-date', () => {
    const state = contentState({ status: 'succeeded', endedAt: T, predictTime: 4.7, progress: 1, detail: '2 images' });
    const alert = endAlert(attributes(), state);

    const { payload } = buildApnsPayload({ event: 'end', contentState: state, timestamp: T, staleDate: T + 900, dismissalDate: T + 3600, alert });

    expect(payload).toStrictEqual({
      aps: { timestamp: T, event: 'end', 'content-state': state, alert, 'dismissal-date': T + 3600 },
    });
  });

  it('emits no undefined keys and keeps numbers as numbers', () => {
    const state: ContentState = { status: 'processing', startedAt: 1, createdAt: 1, endedAt: undefined, progress: undefined, detail: undefined, predictTime: undefined, error: undefined };
    const alert: ApnsAlert = { title: 't', body: 'b', sound: undefined };

    const { payload } = buildApnsPayload({ event: 'update', contentState: state, timestamp: T, alert, staleDate: undefined });

    expect(JSON.parse(JSON.stringify(payload))).toStrictEqual(payload);
    expect(payload.aps['content-state']).toStrictEqual({ status: 'processing', startedAt: 1, createdAt: 1 });
    expect(payload.aps.alert).toStrictEqual({ title: 't', body: 'b' });
    expect(typeof payload.aps.timestamp).toBe('number');
  });

  it('keeps only the contract keys of content-state and attributes', () => {
    const state = { ...contentState(), prompt: 'SECRET' } as ContentState;
    const attrs = { ...attributes(), input: { prompt: 'SECRET' } } as CardAttributes;

    const { payload } = buildApnsPayload({ event: 'start', contentState: state, timestamp: T, attributes: attrs, alert: startAlert(attrs, state) });

    expect(JSON.stringify(payload)).not.toContain('SECRET');
  });

  it('drops non-finite optional numbers and clamps progress to 0…1', () => {
    const state = contentState({ progress: 1.7, predictTime: Number.NaN, endedAt: Number.POSITIVE_INFINITY });

    const { payload } = buildApnsPayload({ event: 'update', contentState: state, timestamp: T, staleDate: Number.NaN });

    expect(payload.aps).toStrictEqual({ timestamp: T, event: 'update', 'content-state': contentState({ progress: 1 }) });
  });

  it.each([
    ['timestamp', { timestamp: Number.NaN, contentState: contentState() }],
    ['startedAt', { timestamp: T, contentState: contentState({ startedAt: Number.POSITIVE_INFINITY }) }],
    ['createdAt', { timestamp: T, contentState: contentState({ createdAt: Number.NaN }) }],
  ])('throws on a non-finite %s', (_name, args) => {
    expect(() => buildApnsPayload({ event: 'update', ...args })).toThrow(Error);
  });

  it('throws on a status outside the contract', () => {
    const state = { ...contentState(), status: 'queued' as CardStatus };

    expect(() => buildApnsPayload({ event: 'update', contentState: state, timestamp: T })).toThrow(/status/);
  });

  describe('4096-byte cap', () => {
    it('fits a several-KB detail, keeping its start and marking the cut', () => {
      const state = contentState({ detail: `start ${'token '.repeat(2000)}` });

      const { payload, bytes, truncated } = buildApnsPayload({ event: 'update', contentState: state, timestamp: T, staleDate: T + 900 });

      expectValidWire(payload, bytes);
      expect(truncated).toBe(true);
      expect(payload.aps['content-state'].detail?.startsWith('start token')).toBe(true);
      expect(payload.aps['content-state'].detail?.endsWith('…')).toBe(true);
      expect(bytes).toBeGreaterThan(MAX_PAYLOAD_BYTES - 16);
    });

    it('fits a 1 MB error and keeps status and times', () => {
      const state = contentState({ status: 'failed', endedAt: T, error: `OOM ${'x'.repeat(1_000_000)}`, detail: 'OOM' });

      const { payload, bytes, truncated } = buildApnsPayload({ event: 'end', contentState: state, timestamp: T, dismissalDate: T + 60 });

      expectValidWire(payload, bytes);
      expect(truncated).toBe(true);
      const cs = payload.aps['content-state'];
      expect(cs).toMatchObject({ status: 'failed', startedAt: state.startedAt, createdAt: state.createdAt, endedAt: T, detail: 'OOM' });
      expect(cs.error?.startsWith('OOM xxx')).toBe(true);
      expect(cs.error?.endsWith('…')).toBe(true);
      expect(payload.aps.timestamp).toBe(T);
      expect(payload.aps['dismissal-date']).toBe(T + 60);
    });

    it('fits a 2 KB model name on start by cutting the alert body before the model attribute', () => {
      const attrs = attributes({ model: `owner/${'m'.repeat(2042)}` });
      const state = contentState();

      const { payload, bytes, truncated } = buildApnsPayload({ event: 'start', contentState: state, timestamp: T, attributes: attrs, alert: startAlert(attrs, state), staleDate: T + 1 });

      expectValidWire(payload, bytes);
      expect(truncated).toBe(true);
      expect(payload.aps.attributes?.model).toBe(attrs.model);
      expect(payload.aps.alert?.body.endsWith('…')).toBe(true);
      expect(payload.aps.alert?.title).toBe('Replicate · RUNNING');
    });

    it('cuts a 2 KB emoji model name without splitting surrogate pairs', () => {
      const attrs = attributes({ model: '🦙'.repeat(2048) });
      const state = contentState();

      const { payload, bytes } = buildApnsPayload({ event: 'start', contentState: state, timestamp: T, attributes: attrs, alert: startAlert(attrs, state) });

      expectValidWire(payload, bytes);
      const model = payload.aps.attributes?.model ?? '';
      expect(model).toMatch(/^(?:🦙)+…$/u);
      expect(payload.aps.attributes?.jobId).toBe(JOB_ID);
      expect(payload.aps.attributes?.activityId).toBe('act_01');
    });

    it('cuts detail before error', () => {
      const state = contentState({ detail: 'd'.repeat(3000), error: 'e'.repeat(3000) });

      const { payload, bytes } = buildApnsPayload({ event: 'update', contentState: state, timestamp: T });

      expectValidWire(payload, bytes);
      expect(payload.aps['content-state'].error).toBe(state.error);
      expect(payload.aps['content-state'].detail).toMatch(/^d+…$/);
    });

    it('keeps CJK and combining text well-formed when cutting', () => {
      const state = contentState({ detail: '漢字かなカナ'.repeat(1000), error: 'e\u0301'.repeat(3000) });

      const { payload, bytes } = buildApnsPayload({ event: 'update', contentState: state, timestamp: T });

      expectValidWire(payload, bytes);
      expect(payload.aps['content-state'].error).toMatch(/^(?:e\u0301)+…$/u);
    });

    it('replaces lone surrogates instead of emitting them', () => {
      const attrs = attributes({ model: 'bad\uD800model', inspector: '\uDC00' });
      const state = contentState({ detail: 'x\uDBFF' });

      const { payload, bytes } = buildApnsPayload({ event: 'start', contentState: state, timestamp: T, attributes: attrs, alert: startAlert(attrs, state) });

      expectValidWire(payload, bytes);
      expect(payload.aps.attributes?.model).toBe('bad\uFFFDmodel');
    });

    it('drops an absurd alert sound rather than exceed the cap', () => {
      const alert: ApnsAlert = { title: 'Replicate · SUCCEEDED', body: 'm', sound: 's'.repeat(10_000) };

      const { payload, bytes, truncated } = buildApnsPayload({ event: 'end', contentState: contentState({ status: 'succeeded' }), timestamp: T, alert });

      expectValidWire(payload, bytes);
      expect(truncated).toBe(true);
      expect(payload.aps.alert).toStrictEqual({ title: 'Replicate · SUCCEEDED', body: 'm' });
    });

    it('fits when every string is huge', () => {
      const huge = '🎉'.repeat(300_000);
      const attrs: CardAttributes = { activityId: huge, provider: 'replicate', jobId: huge, model: huge, inspector: huge, webUrl: huge };
      const state = contentState({ detail: huge, error: huge });

      const { payload, bytes } = buildApnsPayload({ event: 'start', contentState: state, timestamp: T, attributes: attrs, alert: { title: huge, body: huge, sound: huge }, inputPushToken: true });

      expectValidWire(payload, bytes);
      expect(payload.aps['content-state'].status).toBe('processing');
      expect(payload.aps['input-push-token']).toBe(1);
    });
  });

  it('keeps the payload valid JSON ≤ 4096 bytes with status and times for any strings and numbers', () => {
    const unit = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
    );
    const text = fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit, maxLength: 40 }) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ unit, minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3000 })).map(([s, n]) => s.repeat(n)) },
    );
    const time = fc.double({ noNaN: true, noDefaultInfinity: true });
    const anyNumber = fc.option(fc.double(), { nil: undefined });
    const status = fc.constantFrom<CardStatus>('starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted', 'expired');
    const event = fc.constantFrom<PushKind>('start', 'update', 'end');
    const optionalText = fc.option(text, { nil: undefined });

    fc.assert(
      fc.property(
        fc.record({
          event,
          status,
          timestamp: time,
          startedAt: time,
          createdAt: time,
          endedAt: anyNumber,
          progress: anyNumber,
          predictTime: anyNumber,
          staleDate: anyNumber,
          dismissalDate: anyNumber,
          detail: optionalText,
          error: optionalText,
          strings: fc.array(text, { minLength: 5, maxLength: 5 }),
          alert: fc.record({ title: text, body: text, sound: optionalText }, { requiredKeys: ['title', 'body'] }),
          inputPushToken: fc.boolean(),
        }),
        (input) => {
          const [activityId, jobId, model, inspector, webUrl] = input.strings;
          const { payload, bytes } = buildApnsPayload({
            event: input.event,
            contentState: {
              status: input.status,
              startedAt: input.startedAt,
              createdAt: input.createdAt,
              endedAt: input.endedAt,
              progress: input.progress,
              predictTime: input.predictTime,
              detail: input.detail,
              error: input.error,
            },
            timestamp: input.timestamp,
            attributes: { activityId, provider: 'replicate', jobId, model, inspector, webUrl },
            alert: input.alert,
            staleDate: input.staleDate,
            dismissalDate: input.dismissalDate,
            inputPushToken: input.inputPushToken,
          });

          const wire = JSON.stringify(payload);
          const parsed = JSON.parse(wire) as { aps: { timestamp: number; event: string; 'content-state': ContentState } };
          expect(Buffer.byteLength(wire, 'utf8')).toBe(bytes);
          expect(bytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
          expect(allStrings(parsed).every(isWellFormed)).toBe(true);
          expect(parsed.aps.event).toBe(input.event);
          expect(parsed.aps.timestamp).toBe(input.timestamp === 0 ? 0 : input.timestamp);
          expect(parsed.aps['content-state'].status).toBe(input.status);
          expect(parsed.aps['content-state'].startedAt).toBe(input.startedAt === 0 ? 0 : input.startedAt);
          expect(parsed.aps['content-state'].createdAt).toBe(input.createdAt === 0 ? 0 : input.createdAt);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ───────────────────────────── alerts, words, colours ─────────────────────────────

describe('statusWord and cardColor', () => {
  it.each<[CardStatus, string, string]>([
    ['starting', 'STARTING', 'blue'],
    ['processing', 'RUNNING', 'blue'],
    ['succeeded', 'SUCCEEDED', 'green'],
    ['failed', 'FAILED', 'red'],
    ['canceled', 'CANCELED', 'grey'],
    ['aborted', 'ABORTED', 'grey'],
    ['expired', 'EXPIRED', 'grey'],
  ])('%s reads %s and is %s', (status, word, color) => {
    expect(statusWord(status)).toBe(word);
    expect(cardColor(status)).toBe(color);
  });
});

describe('startAlert', () => {
  it('is "Replicate · RUNNING" with model and job id', () => {
    const alert = startAlert(attributes({ model: 'meta/llama' }), contentState());

    expect(alert).toStrictEqual({ title: 'Replicate · RUNNING', body: `meta/llama · ${JOB_ID}` });
  });

  it('falls back to the job id when the model is unknown', () => {
    expect(startAlert(attributes({ model: '' }), contentState()).body).toBe(JOB_ID);
  });
});

describe('endAlert', () => {
  it('names the model and the duration when predictTime is known', () => {
    const alert = endAlert(attributes({ model: 'meta/llama' }), contentState({ status: 'succeeded', predictTime: 65 }));

    expect(alert).toStrictEqual({ title: 'Replicate · SUCCEEDED', body: 'meta/llama · 1m 5s' });
  });

  it('names only the model when predictTime is unknown', () => {
    const alert = endAlert(attributes({ model: 'meta/llama' }), contentState({ status: 'canceled' }));

    expect(alert).toStrictEqual({ title: 'Replicate · CANCELED', body: 'meta/llama' });
  });

  it.each<[CardStatus, string]>([
    ['failed', 'Replicate · FAILED'],
    ['aborted', 'Replicate · ABORTED'],
    ['expired', 'Replicate · EXPIRED'],
  ])('titles %s as %s', (status, title) => {
    expect(endAlert(attributes(), contentState({ status })).title).toBe(title);
  });
});

describe('formatDuration', () => {
  it.each<[number, string | undefined]>([
    [0, '0s'],
    [0.44, '0.4s'],
    [4.7, '4.7s'],
    [9.96, '10s'],
    [42.4, '42s'],
    [59.6, '1m'],
    [65, '1m 5s'],
    [3600, '1h'],
    [3 * 3600 + 7 * 60 + 12, '3h 7m'],
    [-1, undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
  ])('%d s reads %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});
