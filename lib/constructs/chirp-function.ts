/**
 * The project's Lambda function: NodejsFunction with the defaults every Chirp handler shares
 * (esbuild, minified, arm64, Node.js 24, source maps, SDK external, explicit log group), a role
 * that can write only to its own log group, and `bind*` helpers that set an environment
 * variable and the matching IAM grant in one call so that names and permissions cannot drift.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/config';

/** Repository root: entry files and the lock file are resolved from here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The runtime every function uses; the SDK v3 it ships is what `@aws-sdk/*` resolves to. */
export const CHIRP_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild settings shared by every function. */
export const CHIRP_BUNDLING: BundlingOptions = {
  minify: true,
  sourceMap: true,
  // Source content is not needed to map stack traces, and it would double the map's size.
  sourcesContent: false,
  keepNames: true,
  target: 'node24',
  format: OutputFormat.CJS,
  // The runtime provides SDK v3; bundling it would add ~0.5 MB per function for no benefit here.
  externalModules: ['@aws-sdk/*'],
};

/**
 * Compile-time constants for the handlers: the push transport is baked into each bundle so that
 * esbuild drops the transport that is not used (the APNs library is ~350 KB of an SNS bundle).
 * The same value is also set as an environment variable by `ChirpPush`.
 */
export function bundlingDefines(pushTransport: string): Record<string, string> {
  return { [`process.env.${ENV.pushTransport}`]: JSON.stringify(pushTransport) };
}

/**
 * `read-update`: reads, plus UpdateItem only: the webhook and the sweeper change two things in
 * the key table (a device's push-to-start budget, a retired push-to-start token), both with a
 * conditional UpdateItem, and never create or delete items there.
 */
export type TableAccess = 'read' | 'read-update' | 'readwrite';

export interface ChirpFunctionProps {
  /** Entry file relative to the repository root, e.g. `lambda/handlers/webhook.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize?: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
  readonly environment?: Record<string, string>;
  /** Extra esbuild options for this function (e.g. command hooks). */
  readonly bundling?: Partial<BundlingOptions>;
}

export class ChirpFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ChirpFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own instead of AWSLambdaBasicExecutionRole: it may write to this function's
    // log group and nothing else (no logs:CreateLogGroup, no other groups).
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role for ${id}`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
      runtime: CHIRP_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      description: props.description,
      role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: { ...CHIRP_BUNDLING, ...props.bundling },
    });
  }

  /** Sets the table-name variable and grants exactly the requested access to the table and its indexes. */
  bindTable(envName: string, table: dynamodb.ITable, access: TableAccess): this {
    this.addEnvironment(envName, table.tableName);
    if (access === 'readwrite') table.grantReadWriteData(this);
    else table.grantReadData(this);
    if (access === 'read-update') table.grant(this, 'dynamodb:UpdateItem');
    return this;
  }

  /** Sets the secret-ARN variable and grants GetSecretValue (and DescribeSecret) on that secret only. */
  bindSecret(envName: string, secret: secretsmanager.ISecret): this {
    this.addEnvironment(envName, secret.secretArn);
    secret.grantRead(this);
    return this;
  }

  /** Adds a statement to this function's own role. */
  allow(statement: iam.PolicyStatement): this {
    this.addToRolePolicy(statement);
    return this;
  }
}
