/**
 * The inspector's API client. Same origin (the API serves this page), paths relative to the
 * page so a base path in front of the API keeps working. The admin token lives in
 * sessionStorage: this tab only, gone when it closes.
 */
import type { ActivityView, DeviceView, EventsPage, EventView, InspectorCreated, InspectorRotated, InspectorView, TestJobResultView } from '../../lambda/http/schemas';

export type { ActivityView, DeviceView, EventView, InspectorCreated, InspectorRotated, InspectorView, TestJobResultView };

const TOKEN_KEY = 'chirp.adminToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

interface Page<T> {
  items: T[];
  cursor?: string;
}

export class Api {
  constructor(private readonly token: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'Chirp could not be reached. Is the server running?');
    }
    if (response.status === 204) return undefined as T;
    const data: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
      throw new ApiError(response.status, error?.code ?? 'http', error?.message ?? `HTTP ${response.status}`, error?.field);
    }
    return data as T;
  }

  listInspectors(): Promise<Page<InspectorView>> {
    return this.request('GET', 'v1/inspectors?limit=100');
  }

  getInspector(id: string): Promise<InspectorView> {
    return this.request('GET', `v1/inspectors/${encodeURIComponent(id)}`);
  }

  createInspector(body: Record<string, unknown>): Promise<InspectorCreated> {
    return this.request('POST', 'v1/inspectors', body);
  }

  updateInspector(id: string, body: Record<string, unknown>): Promise<InspectorView> {
    return this.request('PATCH', `v1/inspectors/${encodeURIComponent(id)}`, body);
  }

  rotate(id: string, graceSeconds: number): Promise<InspectorRotated> {
    return this.request('POST', `v1/inspectors/${encodeURIComponent(id)}/rotate`, { graceSeconds });
  }

  revoke(id: string): Promise<void> {
    return this.request('DELETE', `v1/inspectors/${encodeURIComponent(id)}`);
  }

  test(id: string, outcome: string): Promise<TestJobResultView> {
    return this.request('POST', `v1/inspectors/${encodeURIComponent(id)}/test`, { outcome });
  }

  events(id: string, query: Record<string, string>): Promise<EventsPage> {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ''));
    return this.request('GET', `v1/inspectors/${encodeURIComponent(id)}/events?${params.toString()}`);
  }

  activities(id: string): Promise<Page<ActivityView>> {
    return this.request('GET', `v1/inspectors/${encodeURIComponent(id)}/activities?limit=12`);
  }

  activity(id: string, activityId: string): Promise<{ activity: ActivityView; timeline: EventView[] }> {
    return this.request('GET', `v1/inspectors/${encodeURIComponent(id)}/activities/${encodeURIComponent(activityId)}`);
  }

  devices(): Promise<Page<DeviceView>> {
    return this.request('GET', 'v1/devices?limit=100');
  }
}
