import { RateLimiter } from '../../lambda/core/rate-limit';

describe('RateLimiter', () => {
  test('admits a burst, then the sustained rate, per key', () => {
    // Arrange
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, () => now);
    // Act
    const burst = [limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')];
    const other = limiter.take('b');
    now += 500;
    const afterHalfSecond = limiter.take('a');
    const right = limiter.take('a');
    // Assert
    expect(burst).toEqual([0, 0, 0, 1]);
    expect(other).toBe(0);
    expect(afterHalfSecond).toBe(0);
    expect(right).toBeGreaterThanOrEqual(1);
  });

  test('a clock stepping backwards does not drain the bucket', () => {
    let now = 10_000;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 }, () => now);
    limiter.take('a');
    now -= 600_000;
    expect(limiter.take('a')).toBe(0);
  });
});
