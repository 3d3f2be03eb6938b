/**
 * The simulated iPhone of local mode behaves like the app: when a `start` push reaches it, it
 * "starts" the Live Activity and reports the activity's update token to the real API
 * (`PUT /v1/activities/{id}/token` with its device credential), so updates and ends flow.
 */
import { randomBytes } from 'node:crypto';
import type { Log } from '../lambda/core/log';
import type { PushMessage } from '../lambda/core/push-port';

export class SimulatedPhone {
  private baseUrl: string | undefined;
  private readonly secrets = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly log: Log) {}

  connect(baseUrl: string): void {
    this.baseUrl = baseUrl;
  }

  addDevice(deviceId: string, secret: string): void {
    this.secrets.set(deviceId, secret);
  }

  onPushSent(message: PushMessage): void {
    const secret = this.secrets.get(message.target.deviceId);
    if (message.kind !== 'start' || !secret || !this.baseUrl) return;
    const report = this.reportToken(message.activityId, secret).finally(() => this.inFlight.delete(report));
    this.inFlight.add(report);
  }

  /** Resolves when every token report has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async reportToken(activityId: string, secret: string): Promise<void> {
    // Like iOS, the token arrives a moment after the activity starts, never inside the push.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const response = await fetch(`${this.baseUrl}/v1/activities/${encodeURIComponent(activityId)}/token`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: randomBytes(40).toString('hex') }),
      });
      if (!response.ok) this.log.warn('simulated phone could not report its token', { activityId, status: response.status });
    } catch (err) {
      this.log.warn('simulated phone could not reach the server', { activityId, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
