/**
 * Configuration: defaults, merging of file and context, and validation errors that name the
 * setting a user has to fix.
 */
import { ChirpConfigError, contextOverrides, loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG } from './synth';

const minimal = { bundleId: 'com.acme.chirp', teamId: 'ABCDE12345', apnsKeyId: 'ABC123DEFG' };

function problemsOf(...sources: unknown[]): string[] {
  try {
    loadConfig(...sources);
  } catch (err) {
    if (err instanceof ChirpConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ChirpConfigError');
}

describe('loadConfig', () => {
  it('loads the committed example configuration (placeholder bundle id, sandbox, sns)', () => {
    const config = loadConfig(EXAMPLE_CONFIG);
    expect(config).toMatchObject({
      stackName: 'Chirp',
      bundleId: 'com.example.chirp',
      environments: ['sandbox'],
      pushTransport: 'sns',
      removalPolicy: 'retain',
      apnsKeySecretName: 'chirp/apns-key',
    });
  });

  it('applies defaults for everything optional', () => {
    expect(loadConfig(minimal)).toEqual({
      ...minimal,
      stackName: 'Chirp',
      apnsKeySecretName: 'chirp/apns-key',
      environments: ['sandbox'],
      pushTransport: 'sns',
      existingPlatformApplicationArns: {},
      removalPolicy: 'retain',
      webhookReservedConcurrency: undefined,
      throttling: { rateLimit: 50, burstLimit: 100 },
      sweepIntervalMinutes: 1,
      logRetentionDays: 30,
      alarmEmail: undefined,
      alarmTopicArn: undefined,
      replicateApiBase: undefined,
    });
  });

  it('lets later sources (context) override earlier ones (file), merging nested objects key by key', () => {
    const config = loadConfig(
      { ...minimal, throttling: { rateLimit: 10, burstLimit: 20 } },
      JSON.stringify({ bundleId: 'com.acme.other', throttling: { burstLimit: 40 } }),
    );
    expect(config.bundleId).toBe('com.acme.other');
    expect(config.throttling).toEqual({ rateLimit: 10, burstLimit: 40 });
  });

  it('ignores "$comment"-style keys', () => {
    expect(() => loadConfig({ ...minimal, $comment: 'hello', _note: 'x' })).not.toThrow();
  });

  it.each([
    [{ bundleId: undefined }, /chirp\.bundleId is required/],
    [{ bundleId: 'chirp' }, /chirp\.bundleId must be a reverse-DNS bundle id like com\.example\.app/],
    [{ teamId: 'abc' }, /chirp\.teamId must be your 10-character Apple Team ID/],
    [{ teamId: undefined }, /chirp\.teamId is required/],
    [{ apnsKeyId: 'KEY' }, /chirp\.apnsKeyId must be the 10-character Key ID/],
    [{ apnsKeySecretName: 'has spaces' }, /chirp\.apnsKeySecretName must be a Secrets Manager secret name/],
    [{ apnsKeySecretName: 'arn:aws:s3:::bucket' }, /chirp\.apnsKeySecretName/],
    [{ environments: [] }, /chirp\.environments must be \["sandbox"\], \["production"\] or \["sandbox", "production"\]/],
    [{ environments: ['staging'] }, /chirp\.environments/],
    [{ environments: ['sandbox', 'sandbox'] }, /chirp\.environments/],
    [{ pushTransport: 'fcm' }, /chirp\.pushTransport must be "sns" or "apns"/],
    [{ removalPolicy: 'snapshot' }, /chirp\.removalPolicy must be "retain" or "destroy"/],
    [{ webhookReservedConcurrency: 0 }, /chirp\.webhookReservedConcurrency must be a whole number from 1/],
    [{ webhookReservedConcurrency: 2.5 }, /chirp\.webhookReservedConcurrency/],
    [{ throttling: { rateLimit: -1, burstLimit: 10 } }, /chirp\.throttling\.rateLimit must be a positive number/],
    [{ throttling: { rateLimit: 1, burstLimit: 1.5 } }, /chirp\.throttling\.burstLimit must be a positive whole number/],
    [{ throttling: { burst: 1 } }, /chirp\.throttling\.burst is not a known setting/],
    [{ sweepIntervalMinutes: 0 }, /chirp\.sweepIntervalMinutes must be a whole number from 1 to 60/],
    [{ logRetentionDays: 10 }, /chirp\.logRetentionDays must be one of 1, 3, 5, 7, 14, 30/],
    [{ alarmEmail: 'not-an-email' }, /chirp\.alarmEmail must be an email address/],
    [{ alarmTopicArn: 'topic' }, /chirp\.alarmTopicArn must be an SNS topic ARN/],
    [{ replicateApiBase: 'ftp://x' }, /chirp\.replicateApiBase must be an http\(s\) URL/],
    [{ stackName: '1chirp' }, /chirp\.stackName must start with a letter/],
    [{ bundelId: 'com.acme.app' }, /chirp\.bundelId is not a known setting/],
  ])('rejects %j naming the setting', (override, message) => {
    const problems = problemsOf({ ...minimal, ...override });
    expect(problems.join('\n')).toMatch(message);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ bundleId: 'x', teamId: 'y', apnsKeyId: 'z' });
    expect(problems).toHaveLength(3);
    expect(new ChirpConfigError(problems).message).toContain('Invalid Chirp configuration');
  });

  describe('existingPlatformApplicationArns', () => {
    const sandboxArn = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/MyApp';

    it('accepts an ARN for an enabled environment', () => {
      expect(loadConfig({ ...minimal, existingPlatformApplicationArns: { sandbox: sandboxArn } }).existingPlatformApplicationArns).toEqual({
        sandbox: sandboxArn,
      });
    });

    it('rejects an ARN of the wrong platform', () => {
      expect(problemsOf({ ...minimal, existingPlatformApplicationArns: { sandbox: sandboxArn.replace('APNS_SANDBOX', 'APNS') } }).join()).toMatch(
        /chirp\.existingPlatformApplicationArns\.sandbox must be an APNS_SANDBOX platform application/,
      );
    });

    it('rejects something that is not a platform application ARN', () => {
      expect(problemsOf({ ...minimal, existingPlatformApplicationArns: { sandbox: 'arn:aws:sns:us-east-1:123456789012:topic' } }).join()).toMatch(
        /chirp\.existingPlatformApplicationArns\.sandbox must be an SNS platform application ARN/,
      );
    });

    it('rejects an ARN for an environment that is not enabled', () => {
      expect(
        problemsOf({ ...minimal, existingPlatformApplicationArns: { production: 'arn:aws:sns:us-east-1:123456789012:app/APNS/MyApp' } }).join(),
      ).toMatch(/chirp\.existingPlatformApplicationArns\.production is set but chirp\.environments does not include "production"/);
    });

    it('rejects ARNs with the apns transport', () => {
      expect(problemsOf({ ...minimal, pushTransport: 'apns', existingPlatformApplicationArns: { sandbox: sandboxArn } }).join()).toMatch(
        /only applies when chirp\.pushTransport is "sns"/,
      );
    });

    it('does not need the key, team or secret when every platform application already exists', () => {
      const config = loadConfig({ bundleId: 'com.acme.chirp', existingPlatformApplicationArns: { sandbox: sandboxArn } });
      expect(config.teamId).toBe('');
      expect(config.apnsKeyId).toBe('');
    });
  });

  it('accepts a secret ARN as apnsKeySecretName', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:chirp/apns-key-AbCdEf';
    expect(loadConfig({ ...minimal, apnsKeySecretName: arn }).apnsKeySecretName).toBe(arn);
  });

  it('rejects a context value that is not JSON', () => {
    expect(problemsOf(minimal, '{not json').join()).toMatch(/must be a JSON object/);
  });
});

describe('contextOverrides', () => {
  it('reads the whole `chirp` key and single `chirp.<setting>` keys, parsing JSON values', () => {
    const context: Record<string, unknown> = {
      chirp: '{"bundleId":"com.acme.one"}',
      'chirp.sweepIntervalMinutes': '5',
      'chirp.environments': '["sandbox","production"]',
      'chirp.teamId': 'ZYXWV98765',
      'chirp.throttling.rateLimit': '7',
      unrelated: 'x',
    };
    const sources = contextOverrides((key) => context[key], Object.keys(context));
    const config = loadConfig(minimal, ...sources);
    expect(config).toMatchObject({
      bundleId: 'com.acme.one',
      sweepIntervalMinutes: 5,
      environments: ['sandbox', 'production'],
      teamId: 'ZYXWV98765',
      throttling: { rateLimit: 7, burstLimit: 100 },
    });
  });

  it('returns nothing to merge when there is no chirp context', () => {
    expect(contextOverrides(() => undefined, ['other'])).toEqual([undefined, undefined]);
  });
});
