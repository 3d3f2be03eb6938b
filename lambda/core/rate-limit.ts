/**
 * Per-inspector rate limit: a token bucket per inspector, in memory, per container. It costs no
 * database request (a flood must not become a DynamoDB bill), so the limit applies per
 * container: N warm containers admit up to N times the rate, which Lambda's reserved
 * concurrency bounds.
 *
 * A 429 is safe for terminal webhooks (Replicate retries them for about a minute) but loses an
 * intermediate one (never retried), so the defaults sit far above what Replicate sends for one
 * job (about 2 per second) and only stop floods.
 */
export interface RateLimitSettings {
  /** Sustained webhooks per second per inspector. */
  ratePerSecond: number;
  /** Bucket size: how many may arrive at once. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { ratePerSecond: 50, burst: 500 };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    /** Epoch ms. */
    private readonly nowMs: () => number,
    private readonly maxBuckets = 10_000,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const now = this.nowMs();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.buckets.clear();
      bucket = { tokens: this.settings.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    // A clock that steps backwards (NTP) must not drain the bucket.
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.settings.burst, bucket.tokens + (elapsed / 1000) * this.settings.ratePerSecond);
    bucket.updatedAt = Math.max(now, bucket.updatedAt);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.settings.ratePerSecond));
  }
}
