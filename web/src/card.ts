/**
 * The card preview: the content-state drawn the way the lock-screen widget draws it (header
 * "Replicate · RUNNING" or the terminal word, model, prediction id, a self-updating elapsed timer
 * from `startedAt`, detail / progress, and a green, red or grey end). The header word and the
 * colour come from the API (`statusWord`, `color`), which takes them from the same core functions
 * that build the push (lambda/core/card.ts), so the preview and the phone cannot differ.
 */
import type { ActivityView } from './api';
import { h } from './dom';

/** "0:42", "12:03", "1:02:03": the format of SwiftUI's Text(timerInterval:). */
export function formatElapsed(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

function elapsedFor(timer: HTMLElement, nowSeconds: number): string {
  const started = Number(timer.dataset.started);
  const ended = timer.dataset.ended === undefined ? undefined : Number(timer.dataset.ended);
  return formatElapsed((ended ?? nowSeconds) - started);
}

/** Ticks every timer on the page once a second; the server never sends per-second updates. */
export function startTimers(): void {
  const tick = (): void => {
    const now = Date.now() / 1000;
    for (const timer of document.querySelectorAll<HTMLElement>('.la-timer')) {
      const text = elapsedFor(timer, now);
      if (timer.textContent !== text) timer.textContent = text;
    }
  };
  tick();
  window.setInterval(tick, 1000);
}

/** Compute seconds for the end line: "0.4s", "12s", "3m 5s". */
function formatRunTime(seconds: number): string {
  if (seconds < 9.95) return `${Math.round(seconds * 10) / 10}s`;
  const total = Math.round(seconds);
  return total < 60 ? `${total}s` : `${Math.floor(total / 60)}m ${total % 60}s`;
}

export function cardPreview(activity: Pick<ActivityView, 'contentState' | 'attributes' | 'statusWord' | 'color'>): HTMLElement {
  const state = activity.contentState;
  const color = activity.color;
  const word = activity.statusWord;
  const header = `Replicate · ${word}`;
  const timer = h('span', { className: 'la-timer', 'data-started': state.startedAt, ...(state.endedAt !== undefined && color !== 'blue' ? { 'data-ended': state.endedAt } : {}) });
  timer.textContent = elapsedFor(timer, Date.now() / 1000);
  const runTime = state.predictTime === undefined || !Number.isFinite(state.predictTime) || state.predictTime < 0 ? undefined : formatRunTime(state.predictTime);
  return h(
    'article',
    { className: `la-card la-${color}`, 'data-status': state.status, 'aria-label': `Card preview: ${header}, ${activity.attributes.model}, ${activity.attributes.jobId}` },
    h('div', { className: 'la-top' }, h('span', { className: 'la-dot', 'aria-hidden': 'true' }), h('span', { className: 'la-header' }, header), timer),
    h('div', { className: 'la-model' }, activity.attributes.model),
    h('div', { className: 'la-id' }, activity.attributes.jobId),
    state.detail !== undefined ? h('div', { className: 'la-detail' }, state.detail) : null,
    state.progress !== undefined && color === 'blue'
      ? h('progress', { className: 'la-progress', max: 1, value: state.progress, 'aria-label': `Progress ${Math.round(state.progress * 100)}%` })
      : null,
    color !== 'blue' ? h('div', { className: 'la-end' }, runTime ? `${word.toLowerCase()} · ran ${runTime}` : word.toLowerCase()) : null,
  );
}
