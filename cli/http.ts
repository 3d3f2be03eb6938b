/**
 * The CLI's HTTP client for the Chirp API. Server errors surface with the server's own
 * `{ error: { code, message } }`, plus a hint for the ones people can act on.
 */
import { CliError } from './errors';
import type { Profile } from './config';

export class ApiClient {
  constructor(
    readonly profile: Pick<Profile, 'url' | 'adminToken'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.profile.url}${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.profile.adminToken}`, accept: 'application/json', 'user-agent': 'chirp-cli' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`Cannot reach ${this.profile.url} (${cause?.code ?? cause?.message ?? (err as Error).message}). Is Chirp running there?`);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let data: unknown;
    try {
      data = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`${method} ${path}: HTTP ${response.status} with a body that is not JSON (is ${this.profile.url} a Chirp API?)`);
    }
    if (!response.ok) {
      const error = (data as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
      const hint = response.status === 401 ? ' Run chirp login again.' : '';
      throw new CliError(`${error?.message ?? `HTTP ${response.status}`} (${response.status} ${error?.code ?? 'error'})${hint}`);
    }
    return data as T;
  }
}
