/**
 * Admin-side HTTP for API tests: real fetches against a running server, every read response
 * body kept so tests can scan them all for secrets.
 */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface AdminClient {
  request(method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string> }): Promise<ApiResponse>;
  get(path: string): Promise<ApiResponse>;
  /** Bodies of every GET (and the PATCH answers, which are reads of the new state). */
  readonly reads: string[];
}

export function adminClient(baseUrl: string, adminToken: string): AdminClient {
  const reads: string[] = [];
  const request: AdminClient['request'] = async (method, path, body, options = {}) => {
    const token = options.token === undefined ? adminToken : options.token;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await response.text();
    if (method === 'GET' || method === 'PATCH') reads.push(text);
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return { request, get: (path) => request('GET', path), reads };
}

/** `{ error: { code, field } }` of an error response, for assertions. */
export function errorOf(response: ApiResponse): { code?: string; field?: string; message?: string } {
  const error = (response.json as { error?: { code?: string; field?: string; message?: string } } | null)?.error;
  return error ?? {};
}
