/**
 * Letting go of push tokens Chirp no longer uses. A transport may keep something per token (SNS
 * keeps one platform endpoint per token); `release` deletes it. When a token stops being used:
 *
 * | event | token | when released |
 * |---|---|---|
 * | the `end` went out to a device | that activity's update token | `RELEASE_AFTER_END_SECONDS` later (push-policy `releases`), so SNS can still deliver the end |
 * | APNs / SNS retired the token | the dead token | at once (deliver-pushes) |
 * | the app reported a new update token for an activity | the previous one | at once (activity-token) |
 * | `PATCH /v1/devices/{id}` with a new or null push-to-start token, `DELETE /v1/devices/{id}` | the previous push-to-start token | at once (directory) |
 *
 * Releasing is housekeeping: it never fails the request that caused it. Failures are logged
 * (without the token) and the endpoint is left for a later cleanup.
 */
import type { Log } from './log';
import type { PushSender, PushTarget } from './push-port';

export interface ReleaseDeps {
  push: Pick<PushSender, 'release' | 'transport'>;
  log: Log;
}

/** Releases each target at the transport; never throws. No-op for transports that keep nothing. */
export async function releaseTokens(deps: ReleaseDeps, targets: readonly PushTarget[]): Promise<void> {
  const release = deps.push.release?.bind(deps.push);
  if (!release || targets.length === 0) return;
  const seen = new Set<string>();
  const unique = targets.filter((t) => {
    const key = `${t.environment}:${t.token.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  await Promise.all(
    unique.map(async (target) => {
      try {
        await release(target);
      } catch (err) {
        deps.log.warn('could not release a push token at the transport', {
          transport: deps.push.transport,
          deviceId: target.deviceId,
          tokenKind: target.tokenKind,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }),
  );
}
