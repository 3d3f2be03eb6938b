/**
 * withChirp against a fake Replicate client shaped like replicate-javascript: namespaces of
 * functions bound to the client, and `run` calling `this.predictions.create`.
 */
import { CHIRP_WEBHOOK_EVENTS, withChirp } from '../../clients/replicate-chirp';

const URL = 'https://chirp.example.com/v1/webhooks/replicate?key=chirp_wh_abc';

type Call = { method: string; args: unknown[] };

function fakeReplicate() {
  const calls: Call[] = [];
  const record = (method: string) => async (...args: unknown[]) => {
    calls.push({ method, args });
    return { id: 'p1', status: 'starting' };
  };
  const client = {
    auth: 'r8_x',
    calls,
    predictions: { create: record('predictions.create'), get: record('predictions.get') },
    deployments: { get: record('deployments.get'), predictions: { create: record('deployments.predictions.create') } },
    trainings: { create: record('trainings.create'), cancel: record('trainings.cancel') },
    models: { create: record('models.create') },
    async run(this: { predictions: { create: (o: unknown) => Promise<unknown> } }, ref: string, options: Record<string, unknown>) {
      calls.push({ method: 'run', args: [ref, options] });
      // Like the real client: run creates the prediction through this.predictions.create.
      await this.predictions.create({ ...options, model: ref });
      return ['https://replicate.delivery/out.png'];
    },
  };
  return client;
}

const injected = { webhook: URL, webhook_events_filter: [...CHIRP_WEBHOOK_EVENTS] };

describe('withChirp', () => {
  it('adds the webhook and the events filter to every job-creating call', async () => {
    // prepare
    const fake = fakeReplicate();
    const replicate = withChirp(fake, { webhookUrl: URL });

    // act
    await replicate.predictions.create({ model: 'a/b', input: { prompt: 'x' } });
    await replicate.deployments.predictions.create('acme', 'prod', { input: {} });
    await replicate.trainings.create('acme', 'model', 'v1', { destination: 'acme/out', input: {} });
    await replicate.run('a/b', { input: { prompt: 'y' } });

    // assert
    expect(fake.calls.map((c) => c.method)).toEqual(['predictions.create', 'deployments.predictions.create', 'trainings.create', 'run', 'predictions.create']);
    expect(fake.calls[0]!.args[0]).toEqual({ model: 'a/b', input: { prompt: 'x' }, ...injected });
    expect(fake.calls[1]!.args).toEqual(['acme', 'prod', { input: {}, ...injected }]);
    expect(fake.calls[2]!.args).toEqual(['acme', 'model', 'v1', { destination: 'acme/out', input: {}, ...injected }]);
    expect(fake.calls[3]!.args[1]).toEqual({ input: { prompt: 'y' }, ...injected });
    expect(fake.calls[4]!.args[0]).toEqual({ input: { prompt: 'y' }, model: 'a/b', ...injected });
  });

  it('keeps a webhook or filter the call chose, and a custom default filter', async () => {
    // prepare
    const fake = fakeReplicate();
    const replicate = withChirp(fake, { webhookUrl: URL, events: ['start', 'completed'] });

    // act
    await replicate.predictions.create({ input: {}, webhook: 'https://mine.example.com/hook' });
    await replicate.predictions.create({ input: {}, webhook_events_filter: ['completed'] });
    await replicate.predictions.create({ input: {} });

    // assert
    expect(fake.calls.map((c) => c.args[0])).toEqual([
      { input: {}, webhook: 'https://mine.example.com/hook' },
      { input: {}, webhook: URL, webhook_events_filter: ['completed'] },
      { input: {}, webhook: URL, webhook_events_filter: ['start', 'completed'] },
    ]);
  });

  it('leaves everything else alone and does not modify the original client', async () => {
    // prepare
    const fake = fakeReplicate();
    const replicate = withChirp(fake, { webhookUrl: URL });

    // act
    await replicate.predictions.get('p1');
    await replicate.trainings.cancel('t1');
    await replicate.models.create('acme', 'new-model', { visibility: 'private' });
    await fake.predictions.create({ input: {} });

    // assert
    expect(replicate.auth).toBe('r8_x');
    expect(fake.calls.map((c) => c.args)).toEqual([['p1'], ['t1'], ['acme', 'new-model', { visibility: 'private' }], [{ input: {} }]]);
  });

  it('refuses a webhook URL Replicate could not call', () => {
    // act + assert
    expect(() => withChirp(fakeReplicate(), { webhookUrl: 'ftp://example.com/hook' })).toThrow(/https/);
  });
});
