/**
 * Human output: aligned tables, short times, one line per event. `--json` bypasses all of this
 * and prints what the API returned.
 */
import type { ActivityView, EventView, InspectorView } from '../lambda/http/schemas';

export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function ago(ms: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

export function inspectorRows(items: InspectorView[]): string {
  return table(
    ['ID', 'NAME', 'KEY', 'DEVICES', 'SIGNED', 'LAST EVENT'],
    items.map((i) => [i.id, i.name, i.keyHint, String(i.devices.length), i.hasSigningSecrets ? 'yes' : 'no', i.lastEvent ? `${ago(i.lastEvent.at)} (${i.lastEvent.outcome})` : '—']),
  );
}

export function inspectorDetails(i: InspectorView): string {
  const rows: [string, string][] = [
    ['id', i.id],
    ['name', i.name],
    ['webhook URL', `${i.webhookUrlHint}  (full URL shown only at create/rotate)`],
    ['devices', i.devices.length === 0 ? 'none' : i.devices.map((d) => (d.missing ? `${d.id} (removed)` : `${d.name} ${d.id} (${d.environment})`)).join(', ')],
    ['signing secrets', i.hasSigningSecrets ? `${i.signingSecretsCount} (signatures required)` : 'none (the key alone authenticates)'],
    ['replicate token', i.hasReplicateApiToken ? 'set' : 'not set'],
    ['hang timeout', i.hangTimeoutMinutes === null ? 'default' : `${i.hangTimeoutMinutes} min`],
    ['coalesce', `${i.coalesceSeconds} s`],
    ['retention', `${i.retentionDays} days, last ${i.keepLast} events`],
    ['last event', i.lastEvent ? `${new Date(i.lastEvent.at).toISOString()} (${ago(i.lastEvent.at)}) ${i.lastEvent.source} ${i.lastEvent.outcome}${i.lastEvent.status ? ` ${i.lastEvent.status}` : ''}` : 'none yet'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function eventLine(e: EventView, names: ReadonlyMap<string, string> = new Map()): string {
  const what = e.source === 'webhook' ? `webhook${e.event ? `:${e.event}` : ''}` : e.source === 'api' ? 'token' : 'sweeper';
  const parts = [clockTime(e.at), e.outcome.padEnd(9), what.padEnd(17), (e.status ?? '').padEnd(10), e.jobId ?? '—'];
  if (e.transition) parts.push(`${e.transition.from ?? 'new'}→${e.transition.to}`);
  if (e.reason && e.outcome !== 'applied') parts.push(`(${e.reason})`);
  for (const p of e.pushes) parts.push(`${p.kind}→${names.get(p.deviceId) ?? p.deviceId}:${p.outcome}${p.status ? ` ${p.status}` : ''}${p.reason && p.outcome !== 'sent' ? ` ${p.reason}` : ''}`);
  return parts.join('  ');
}

export function activityRows(items: ActivityView[]): string {
  return table(
    ['ACTIVITY', 'JOB', 'CARD', 'MODEL', 'DETAIL', 'DEVICES'],
    items.map((a) => [
      a.activityId,
      a.jobId,
      `Replicate · ${a.statusWord}`,
      a.attributes.model,
      a.contentState.detail ?? (a.contentState.progress !== undefined ? `${Math.round(a.contentState.progress * 100)}%` : ''),
      a.devices.map((d) => `${d.name ?? d.deviceId}:${d.stopped ? 'stopped' : d.ended ? 'ended' : d.hasToken ? (d.upToDate ? 'ok' : 'pending') : d.startedAt ? 'no token yet' : 'not started'}`).join(' '),
    ]),
  );
}
