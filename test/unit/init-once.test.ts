import { initOnce } from '../../lambda/adapters/init-once';

describe('initOnce', () => {
  test('initialises once and shares the result', async () => {
    // Arrange
    let calls = 0;
    const load = initOnce(async () => ++calls);
    // Act
    const results = await Promise.all([load(), load(), load()]);
    // Assert
    expect(results).toEqual([1, 1, 1]);
    expect(calls).toBe(1);
  });

  test('a failed initialisation is retried by the next call', async () => {
    // Arrange
    let calls = 0;
    const load = initOnce(async () => {
      calls += 1;
      if (calls === 1) throw new Error('cold start failed');
      return 'ready';
    });
    // Act
    const first = load().catch((err: Error) => err.message);
    const firstResult = await first;
    const second = await load();
    // Assert
    expect(firstResult).toBe('cold start failed');
    expect(second).toBe('ready');
    expect(calls).toBe(2);
  });
});
