/**
 * The card builder: what a job snapshot looks like on the Live Activity (ARCHITECTURE §2.2) and the
 * APNs payload that carries it (§2.3). Pure: no I/O, no clock, no randomness; times come in as
 * arguments so the push policy and the tests decide them.
 *
 * Two rules shape everything here:
 * - Prompts and inputs never reach the card. The snapshot carries no `input`, and log lines are
 *   never shown (models echo prompts into them); only numbers are read from the logs.
 * - The APNs body is ≤ MAX_PAYLOAD_BYTES, always, and stays valid JSON of well-formed UTF-8:
 *   strings are cut on code point boundaries (never a lone surrogate) and marked with "…".
 */
import {
  ATTRIBUTES_TYPE,
  MAX_PAYLOAD_BYTES,
  type ApnsAlert,
  type ApnsPayload,
  type CardAttributes,
  type CardStatus,
  type ContentState,
  type PushKind,
} from './live-activity';
import { isTerminalStatus, type ReplicateSnapshot } from './replicate-payload';

/** Longest `detail` / `error` on the card, in code points (the widget has one or two lines). */
export const DETAIL_MAX_CODE_POINTS = 120;

const ELLIPSIS = '…';

// ───────────────────────────── progress ─────────────────────────────

/**
 * tqdm redraws are short; looking only at a line's head bounds the work per line on hostile logs.
 * A longer line can still match on its percent alone.
 */
const MAX_BAR_LINE = 1024;

/**
 * Replicate's own regex (`^\s*(\d+)%\s*\|.+?\|\s*(\d+)\/(\d+)`), widened in two ways: an optional
 * tqdm `desc: ` prefix ("Loading checkpoint shards:  50%|…"), and the counts are optional so a
 * custom bar_format that shows only the percent still counts. The desc must start with a
 * non-space so it cannot overlap the leading `\s*` (that overlap would backtrack quadratically).
 */
const TQDM_BAR = /^\s*(?:[^|\s][^|]*?:\s*)?(\d+)%\s*\|(?:[^|]*\|\s*(\d+)\/(\d+))?/;

/**
 * The progress (0…1) of the LAST tqdm-style bar in the logs, or undefined when there is none.
 * tqdm redraws a bar in place with `\r`, so `\r`, `\n` and `\r\n` all separate redraws. The
 * counts win over the percent (the percent is rounded); a bar with total 0 gives undefined
 * rather than an older bar, because it is the latest state.
 */
export function parseTqdmProgress(logs: string): number | undefined {
  if (typeof logs !== 'string' || logs.length === 0) return undefined;
  // Walk back from the end: the answer is nearly always in the last few lines of a long log.
  let end = logs.length;
  while (end > 0) {
    let start = end;
    while (start > 0) {
      const c = logs.charCodeAt(start - 1);
      if (c === 0x0a || c === 0x0d) break;
      start--;
    }
    const match = TQDM_BAR.exec(logs.slice(start, Math.min(end, start + MAX_BAR_LINE)));
    if (match) return barProgress(match);
    end = start - 1;
  }
  return undefined;
}

function barProgress(match: RegExpExecArray): number | undefined {
  let ratio: number;
  if (match[2] !== undefined && match[3] !== undefined) {
    const total = Number(match[3]);
    if (total === 0) return undefined;
    ratio = Number(match[2]) / total;
  } else {
    ratio = Number(match[1]) / 100;
  }
  // Digit runs long enough to overflow a double are not progress.
  if (!Number.isFinite(ratio)) return undefined;
  return Math.min(1, Math.max(0, ratio));
}

// ───────────────────────────── detail ─────────────────────────────

export interface SnapshotSummary {
  detail?: string;
  progress?: number;
  error?: string;
}

/** A streaming tail only needs its end; collapsing this window first keeps long streams cheap. */
const TAIL_WINDOW_UNITS = 4096;

const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'webp', 'gif']);
const VIDEO_EXT = new Set(['mp4', 'webm', 'mov']);
const AUDIO_EXT = new Set(['wav', 'mp3', 'flac', 'ogg', 'm4a']);

type FileKind = 'image' | 'video' | 'audio' | 'file';

const FILE_NOUNS: Record<FileKind, [singular: string, plural: string]> = {
  image: ['image', 'images'],
  video: ['video', 'videos'],
  audio: ['audio file', 'audio files'],
  file: ['file', 'files'],
};

/**
 * What the card says about a snapshot: `detail` (≤ 120 code points), `progress` (0…1, from the
 * logs only) and, for failed jobs, `error` (first line of the error).
 */
export function summarizeSnapshot(snapshot: ReplicateSnapshot): SnapshotSummary {
  const summary: SnapshotSummary = {};
  if (snapshot.status === 'failed') {
    const line = snapshot.error === null ? undefined : firstLine(snapshot.error);
    if (line !== undefined) {
      summary.detail = line;
      summary.error = line;
    }
  } else {
    const detail = detailFor(snapshot);
    if (detail !== undefined) summary.detail = detail;
  }
  const progress = progressFor(snapshot);
  if (progress !== undefined) summary.progress = progress;
  return summary;
}

function detailFor(snapshot: ReplicateSnapshot): string | undefined {
  if (snapshot.status === 'canceled') return 'canceled';
  if (snapshot.status === 'aborted') return 'deadline reached before start';
  const output = snapshot.output;
  if (output === null || output === undefined) return snapshot.dataRemoved ? 'output removed' : undefined;
  return describeOutput(output);
}

function progressFor(snapshot: ReplicateSnapshot): number | undefined {
  if (!isTerminalStatus(snapshot.status)) return parseTqdmProgress(snapshot.logs);
  // A finished bar is full even when the last redraw we saw was not; a job without a bar gets none.
  if (snapshot.status === 'succeeded' && parseTqdmProgress(snapshot.logs) !== undefined) return 1;
  return undefined;
}

function describeOutput(output: unknown): string | undefined {
  // A bare string URL is "1 file" whatever its extension (the brief's rule); arrays are classified.
  if (typeof output === 'string') return isFileUrl(output) ? '1 file' : textTail(output);
  if (Array.isArray(output)) {
    if (output.length === 0 || !output.every((item): item is string => typeof item === 'string')) return undefined;
    if (output.every(isFileUrl)) return countFiles(output);
    return textTail(output.join(''));
  }
  // A training's output is `{version, weights}`; other objects have no meaning we can name.
  if (typeof output === 'object' && output !== null && 'version' in output) {
    return typeof output.version === 'string' && output.version.length > 0 ? 'new version ready' : undefined;
  }
  return undefined;
}

/** Replicate hands files out as HTTPS URLs (or data: URIs from sync predictions). */
function isFileUrl(value: string): boolean {
  return /^(?:https?:\/\/\S+|data:[^\s,]*,\S*)$/i.test(value.trim());
}

function fileKind(value: string): FileKind {
  const trimmed = value.trim();
  const data = /^data:([a-z]+)\//i.exec(trimmed);
  if (data) {
    const major = data[1].toLowerCase();
    return major === 'image' || major === 'video' || major === 'audio' ? major : 'file';
  }
  const path = trimmed.replace(/[?#].*$/s, '');
  const dot = path.lastIndexOf('.');
  const ext = dot > path.lastIndexOf('/') ? path.slice(dot + 1).toLowerCase() : '';
  if (IMAGE_EXT.has(ext)) return 'image';
  if (VIDEO_EXT.has(ext)) return 'video';
  if (AUDIO_EXT.has(ext)) return 'audio';
  return 'file';
}

function countFiles(urls: readonly string[]): string {
  const kinds = new Set(urls.map(fileKind));
  const kind: FileKind = kinds.size === 1 ? [...kinds][0] : 'file';
  const [singular, plural] = FILE_NOUNS[kind];
  return `${urls.length} ${urls.length === 1 ? singular : plural}`;
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The end of the text, whitespace collapsed, "…" in front when cut. */
function textTail(text: string): string | undefined {
  let collapsed: string;
  if (text.length > TAIL_WINDOW_UNITS) {
    // Collapsing a suffix yields a suffix of the collapsed whole, so when the window alone has
    // more than the limit its tail is the answer; otherwise (mostly whitespace) use everything.
    collapsed = collapseWhitespace(text.slice(text.length - TAIL_WINDOW_UNITS));
    if (Array.from(collapsed).length <= DETAIL_MAX_CODE_POINTS) collapsed = collapseWhitespace(text);
  } else {
    collapsed = collapseWhitespace(text);
  }
  if (collapsed.length === 0) return undefined;
  return keepEnd(collapsed, DETAIL_MAX_CODE_POINTS);
}

/** The first line with something on it, whitespace collapsed, ≤ 120 code points. */
function firstLine(error: string): string | undefined {
  for (const line of error.split(/\r\n|\r|\n/)) {
    // Only the head of a line is shown, so a 1 MB line is collapsed from a window, not whole.
    const text = line.trimStart();
    const collapsed = collapseWhitespace(text.length > TAIL_WINDOW_UNITS ? text.slice(0, TAIL_WINDOW_UNITS) : text);
    if (collapsed.length > 0) return keepStart(collapsed, DETAIL_MAX_CODE_POINTS);
  }
  return undefined;
}

// ───────────────────────────── unicode-safe cutting ─────────────────────────────

/**
 * Code points that belong to the one before them (combining marks, variation selectors, skin
 * tones, ZWJ): cutting next to them leaves a half-drawn character, so cuts step around them.
 */
const ATTACHES = /^[\p{M}\p{Emoji_Modifier}\u200D]$/u;
const ZWJ = '\u200D';
/** Beyond this many attached code points (zalgo text) a clean cut is not worth searching for. */
const MAX_CLUSTER_STEP = 16;

/** Lone surrogates are not valid UTF-8; APNs and Swift would reject or mangle them. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function splitsCluster(cps: readonly string[], cut: number): boolean {
  return (cut < cps.length && ATTACHES.test(cps[cut])) || (cut > 0 && cps[cut - 1] === ZWJ);
}

/** A prefix length ≤ k that does not split a cluster (k itself when none is near). */
function cleanHeadLength(cps: readonly string[], k: number): number {
  for (let cut = k; cut >= 0 && k - cut <= MAX_CLUSTER_STEP; cut--) {
    if (cut === 0 || !splitsCluster(cps, cut)) return cut;
  }
  return k;
}

/** A tail start ≥ start that does not begin inside a cluster (start itself when none is near). */
function cleanTailStart(cps: readonly string[], start: number): number {
  for (let cut = start; cut < cps.length && cut - start <= MAX_CLUSTER_STEP; cut++) {
    if (!splitsCluster(cps, cut)) return cut;
  }
  return start;
}

/** At most `max` code points from the start, "…" appended when cut. */
function keepStart(text: string, max: number): string {
  // 2·max+1 UTF-16 units always hold more than max code points, so the rest never matters.
  const head = text.length > 2 * max + 1 ? text.slice(0, 2 * max + 1) : text;
  const cps = Array.from(head);
  if (head === text && cps.length <= max) return wellFormed(text);
  const kept = cps.slice(0, cleanHeadLength(cps, max - 1)).join('').trimEnd();
  return wellFormed(kept + ELLIPSIS);
}

/** At most `max` code points from the end, "…" in front when cut. */
function keepEnd(text: string, max: number): string {
  const tail = text.length > 2 * max + 1 ? text.slice(text.length - (2 * max + 1)) : text;
  const cps = Array.from(tail);
  if (tail === text && cps.length <= max) return wellFormed(text);
  const start = cleanTailStart(cps, cps.length - (max - 1));
  return wellFormed(ELLIPSIS + cps.slice(start).join('').trimStart());
}

// ───────────────────────────── alerts, words, colours ─────────────────────────────

const STATUS_WORDS: Record<CardStatus, string> = {
  starting: 'STARTING',
  processing: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  canceled: 'CANCELED',
  aborted: 'ABORTED',
  expired: 'EXPIRED',
};

const PROVIDER_NAMES: Record<CardAttributes['provider'], string> = { replicate: 'Replicate' };

/** The header word the widget shows: "RUNNING" for processing, the status in caps otherwise. */
export function statusWord(status: CardStatus): string {
  return STATUS_WORDS[status];
}

export type CardColor = 'green' | 'red' | 'grey' | 'blue';

/** The end colour contract with the app: green succeeded, red failed, grey canceled/aborted/expired; blue while in flight. */
export function cardColor(status: CardStatus): CardColor {
  switch (status) {
    case 'succeeded':
      return 'green';
    case 'failed':
      return 'red';
    case 'canceled':
    case 'aborted':
    case 'expired':
      return 'grey';
    case 'starting':
    case 'processing':
      return 'blue';
  }
}

function alertTitle(attributes: CardAttributes, status: CardStatus): string {
  return `${PROVIDER_NAMES[attributes.provider] ?? 'Replicate'} · ${statusWord(status)}`;
}

/** Alert for the push-to-start (APNs requires one on `start`). Model and job id only: never input. */
export function startAlert(attributes: CardAttributes, contentState: ContentState): ApnsAlert {
  return {
    title: alertTitle(attributes, contentState.status),
    body: [attributes.model, attributes.jobId].filter((part) => part.length > 0).join(' · '),
  };
}

/**
 * Alert for the end push: "Replicate · SUCCEEDED", body "<model> · <duration>" when predictTime is
 * known. End alerts are optional on APNs (only `start` requires one); the push policy decides
 * whether to attach this, e.g. to light the screen only for long jobs.
 */
export function endAlert(attributes: CardAttributes, contentState: ContentState): ApnsAlert {
  const duration = contentState.predictTime === undefined ? undefined : formatDuration(contentState.predictTime);
  const who = attributes.model.length > 0 ? attributes.model : attributes.jobId;
  return {
    title: alertTitle(attributes, contentState.status),
    body: [who, duration].filter((part): part is string => part !== undefined && part.length > 0).join(' · '),
  };
}

/** "0.4s", "12s", "1m 5s", "2m", "1h 3m"; undefined for negative or non-finite input. */
export function formatDuration(seconds: number): string | undefined {
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  // Sub-10 s jobs are common (image models); a decimal tells 0.4 s from 9 s.
  if (seconds < 9.95) return `${Math.round(seconds * 10) / 10}s`;
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  return secs > 0 ? `${minutes}m ${secs}s` : `${minutes}m`;
}

// ───────────────────────────── APNs payload ─────────────────────────────

export interface BuildPayloadArgs {
  event: PushKind;
  contentState: ContentState;
  /** Epoch seconds; strictly increasing per activity is the caller's job (the policy's). */
  timestamp: number;
  attributes?: CardAttributes;
  alert?: ApnsAlert;
  staleDate?: number;
  dismissalDate?: number;
  inputPushToken?: boolean;
}

export interface BuiltPayload {
  payload: ApnsPayload;
  bytes: number;
  truncated: boolean;
}

type Aps = ApnsPayload['aps'];

/** One way to make the payload smaller; true when it changed something. */
type Step = (aps: Aps, bytes: number) => boolean;

/** Cuts one string to the longest prefix + "…" that fits what the rest of the payload leaves. */
function shrink(get: (aps: Aps) => string | undefined, set: (aps: Aps, value: string) => void): Step {
  return (aps, bytes) => {
    const value = get(aps);
    if (value === undefined) return false;
    const valueBytes = jsonBytes(value);
    const shorter = fitPrefix(value, MAX_PAYLOAD_BYTES - (bytes - valueBytes));
    // "ab" → "…" would grow it: only cut when it helps.
    if (jsonBytes(shorter) >= valueBytes) return false;
    set(aps, shorter);
    return true;
  };
}

function shrinkAttribute(key: 'model' | 'inspector' | 'jobId' | 'webUrl' | 'activityId'): Step {
  return shrink(
    (a) => a.attributes?.[key],
    (a, v) => {
      if (a.attributes) a.attributes[key] = v;
    },
  );
}

/**
 * The order things give way: what the user least needs first. The sound name is dropped, not cut
 * (a cut name is no sound), before the title and the activity id are touched; the activity id is
 * last because the app files its update token under it. Dropping detail/error is for absurd
 * inputs only (everything is "…" by then).
 */
const STEPS: readonly Step[] = [
  shrink((a) => a['content-state'].detail, (a, v) => void (a['content-state'].detail = v)),
  shrink((a) => a['content-state'].error, (a, v) => void (a['content-state'].error = v)),
  shrink((a) => a.alert?.body, (a, v) => void (a.alert && (a.alert.body = v))),
  shrinkAttribute('model'),
  shrinkAttribute('inspector'),
  shrinkAttribute('jobId'),
  shrinkAttribute('webUrl'),
  (a) => a.alert?.sound !== undefined && delete a.alert.sound,
  shrink((a) => a.alert?.title, (a, v) => void (a.alert && (a.alert.title = v))),
  shrinkAttribute('activityId'),
  (a) => a['content-state'].detail !== undefined && delete a['content-state'].detail,
  (a) => a['content-state'].error !== undefined && delete a['content-state'].error,
];

/**
 * Assembles the `aps` body for one push and enforces the 4096-byte cap by cutting strings and,
 * for absurd inputs, dropping optional fields (STEPS). Status and times are never touched.
 * Throws a plain Error for programming errors: a start without alert or attributes, an unknown
 * status or event, or a non-finite required time.
 */
export function buildApnsPayload(args: BuildPayloadArgs): BuiltPayload {
  const { event } = args;
  if (event !== 'start' && event !== 'update' && event !== 'end') throw new Error(`Unknown push event: ${String(event)}`);
  if (!Object.hasOwn(STATUS_WORDS, args.contentState.status)) {
    throw new Error(`Unknown card status: ${String(args.contentState.status).slice(0, 40)}`);
  }
  const timestamp = requiredTime(args.timestamp, 'timestamp');
  const state = { truncated: false };
  const aps: Aps = { timestamp, event, 'content-state': copyContentState(args.contentState, state) };

  if (event === 'start') {
    // Without these ActivityKit silently drops the push-to-start; fail loudly here instead.
    if (!args.alert) throw new Error('A start push needs an alert (APNs drops push-to-start without one).');
    if (!args.attributes) throw new Error('A start push needs attributes.');
    aps['attributes-type'] = ATTRIBUTES_TYPE;
    aps.attributes = copyAttributes(args.attributes, state);
  }
  if (args.alert) aps.alert = copyAlert(args.alert, state);
  if (event !== 'end' && isFiniteNumber(args.staleDate)) aps['stale-date'] = args.staleDate;
  if (event === 'end' && isFiniteNumber(args.dismissalDate)) aps['dismissal-date'] = args.dismissalDate;
  if (event === 'start' && args.inputPushToken === true) aps['input-push-token'] = 1;

  const payload: ApnsPayload = { aps };
  let bytes = jsonBytes(payload);
  for (const step of STEPS) {
    if (bytes <= MAX_PAYLOAD_BYTES) break;
    if (step(aps, bytes)) {
      state.truncated = true;
      bytes = jsonBytes(payload);
    }
  }
  // Unreachable for typed callers (status is an enum, numbers are bounded); never hand APNs a 413.
  if (bytes > MAX_PAYLOAD_BYTES) throw new Error(`APNs payload is ${bytes} bytes even after truncation.`);
  return { payload, bytes, truncated: state.truncated };
}

function isFiniteNumber(value: number | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** JSON turns NaN and Infinity into null, which the app's Codable cannot decode as a time. */
function requiredTime(value: number, name: string): number {
  if (!isFiniteNumber(value)) throw new Error(`${name} must be a finite number of epoch seconds.`);
  return value;
}

/**
 * Copies only the contract's keys (extra runtime keys would reach the app), only when defined,
 * and bounds every string so no later step works on megabytes.
 */
function copyContentState(source: ContentState, state: { truncated: boolean }): ContentState {
  const out: ContentState = {
    status: source.status,
    startedAt: requiredTime(source.startedAt, 'contentState.startedAt'),
    createdAt: requiredTime(source.createdAt, 'contentState.createdAt'),
  };
  if (isFiniteNumber(source.endedAt)) out.endedAt = source.endedAt;
  // The widget's ProgressView expects 0…1.
  if (isFiniteNumber(source.progress)) out.progress = Math.min(1, Math.max(0, source.progress));
  if (typeof source.detail === 'string') out.detail = bounded(source.detail, state);
  if (isFiniteNumber(source.predictTime)) out.predictTime = source.predictTime;
  if (typeof source.error === 'string') out.error = bounded(source.error, state);
  return out;
}

function copyAttributes(source: CardAttributes, state: { truncated: boolean }): CardAttributes {
  return {
    activityId: bounded(source.activityId, state),
    provider: source.provider,
    jobId: bounded(source.jobId, state),
    model: bounded(source.model, state),
    inspector: bounded(source.inspector, state),
    webUrl: bounded(source.webUrl, state),
  };
}

function copyAlert(source: ApnsAlert, state: { truncated: boolean }): ApnsAlert {
  const out: ApnsAlert = { title: bounded(source.title, state), body: bounded(source.body, state) };
  if (typeof source.sound === 'string') out.sound = bounded(source.sound, state);
  return out;
}

/**
 * A string longer than MAX_PAYLOAD_BYTES UTF-16 units can never fit (each unit is ≥ 1 JSON
 * byte), so it is cut here to that length; the result is still too big, so the shrink pass always
 * cuts it further and appends "…". Lone surrogates become U+FFFD.
 */
function bounded(value: string, state: { truncated: boolean }): string {
  const text = String(value);
  if (text.length <= MAX_PAYLOAD_BYTES) return wellFormed(text);
  state.truncated = true;
  return wellFormed(text.slice(0, MAX_PAYLOAD_BYTES));
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The longest code-point prefix of `value` plus "…" whose JSON encoding fits `budget` bytes,
 * found by binary search (JSON size only grows with the prefix); "…" alone when nothing fits.
 * `value` is already bounded to MAX_PAYLOAD_BYTES units, so each probe is cheap.
 */
function fitPrefix(value: string, budget: number): string {
  const cps = Array.from(value);
  let lo = 0;
  let hi = cps.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(cps.slice(0, mid).join('') + ELLIPSIS) <= budget) lo = mid;
    else hi = mid - 1;
  }
  // Stepping back over a cluster only shortens the string, so it still fits.
  return cps.slice(0, cleanHeadLength(cps, Math.max(0, lo))).join('') + ELLIPSIS;
}
