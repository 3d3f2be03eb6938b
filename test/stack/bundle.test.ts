/**
 * The one test that really bundles: synthesizes the stack with esbuild for every function (as
 * `cdk synth` / `cdk deploy` would), then loads each bundle in a fresh Node.js process with the
 * environment the template gives that function, and checks that it exports `handler`. This also
 * proves the stack sets every variable a handler needs at cold start. Reports bundle sizes
 * (minified, SDK external) and holds the webhook to its 150 KB budget (ARCHITECTURE §3).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChirpFunction } from '../../lib/constructs/chirp-function';
import { envOf, logicalId, ROOT, synth } from './synth';

const WEBHOOK_BUDGET_BYTES = 150 * 1024;

const PLACEHOLDERS: [RegExp, string][] = [
  [/_TABLE_NAME$/, 'chirp-bundle-test-table'],
  [/^SNS_PLATFORM_APP_ARN_SANDBOX$/, 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/Chirp-sandbox'],
  [/^SNS_PLATFORM_APP_ARN_PRODUCTION$/, 'arn:aws:sns:us-east-1:123456789012:app/APNS/Chirp-production'],
  [/_SECRET_ARN$/, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bundle-test-AbCdEf'],
];

/** The function's environment with CloudFormation references replaced by plausible values. */
function runtimeEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    env[name] = typeof value === 'string' ? value : (PLACEHOLDERS.find(([pattern]) => pattern.test(name))?.[1] ?? 'placeholder');
  }
  return env;
}

/** Loads a bundle in a child process (no network, SDK from the project's node_modules) and returns `typeof handler`. */
function handlerType(bundleDir: string, variables: Record<string, unknown>): string {
  const script = `const m = require(${JSON.stringify(path.join(bundleDir, 'index.js'))}); process.stdout.write(typeof m.handler);`;
  return execFileSync(process.execPath, ['-e', script], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: path.join(ROOT, 'node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bundle-test',
      AWS_SECRET_ACCESS_KEY: 'bundle-test',
      AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
      ...runtimeEnvironment(variables),
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20000,
  });
}

interface SizeRow {
  transport: string;
  fn: string;
  bytes: number;
  kb: string;
}

const sizes: SizeRow[] = [];
const tmpDirs: string[] = [];

afterAll(() => {
  if (sizes.length > 0) {
    const table = sizes.map((r) => `${r.transport.padEnd(5)} ${r.fn.padEnd(13)} ${r.kb.padStart(9)} KB`).join('\n');
    console.log(`Bundle sizes (index.js, minified, @aws-sdk/* external):\n${table}`);
    const outDir = path.join(ROOT, 'test-artifacts');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'bundle-sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
  }
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(['sns', 'apns'])('bundles for the %s transport', (transport) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-bundle-'));
  tmpDirs.push(outdir);
  const { app, stack, template } = synth({ pushTransport: transport }, { bundle: true, outdir });
  const assembly = app.synth();

  const functions: [string, ChirpFunction | undefined][] = [
    ['webhook', stack.functions.webhook],
    ['api', stack.functions.api],
    ['sweeper', stack.functions.sweeper],
    ['push-feedback', stack.functions.pushFeedback],
    ['platform-app', stack.push.platformAppFunction],
  ];
  const present = functions.filter((entry): entry is [string, ChirpFunction] => entry[1] !== undefined);

  it.each(present)('%s: bundle exists, has a source map, and exports handler()', (name, fn) => {
    const id = logicalId(fn);
    const code = template.findResources('AWS::Lambda::Function')[id].Properties.Code as { S3Key: string };
    const bundleDir = path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = path.join(bundleDir, 'index.js');
    expect(fs.existsSync(bundle)).toBe(true);
    expect(fs.existsSync(`${bundle}.map`)).toBe(true);
    const source = fs.readFileSync(bundle, 'utf8');
    // The SDK comes from the runtime: no bundled client code.
    expect(source).not.toMatch(/node_modules\/@aws-sdk\//);
    const bytes = fs.statSync(bundle).size;
    sizes.push({ transport, fn: name, bytes, kb: (bytes / 1024).toFixed(1) });

    expect(handlerType(bundleDir, envOf(template, id))).toBe('function');
  });

  if (transport === 'sns') {
    it('webhook bundle is within the 150 KB budget', () => {
      const webhook = sizes.find((r) => r.transport === 'sns' && r.fn === 'webhook');
      expect(webhook).toBeDefined();
      expect(webhook!.bytes).toBeLessThanOrEqual(WEBHOOK_BUDGET_BYTES);
    });
  }
});
