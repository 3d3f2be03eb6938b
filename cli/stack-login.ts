/**
 * `chirp login --stack NAME`: the API URL from the stack's outputs and the admin token from
 * Secrets Manager, with the user's own AWS credentials (the usual SDK chain: env, profile, SSO).
 *
 * @aws-sdk/client-cloudformation is an optional dependency of the CLI (the Lambda bundles never
 * need it), so it is imported at run time and its absence is a clear message, not a crash.
 */
import { CliError } from './errors';

interface StackOutput {
  OutputKey?: string;
  OutputValue?: string;
}

interface CloudFormationModule {
  CloudFormationClient: new (config: { region?: string }) => { send(command: unknown): Promise<{ Stacks?: { Outputs?: StackOutput[] }[] }>; destroy(): void };
  DescribeStacksCommand: new (input: { StackName: string }) => unknown;
}

const CLOUDFORMATION_PACKAGE = '@aws-sdk/client-cloudformation';

async function loadCloudFormation(): Promise<CloudFormationModule> {
  // A variable specifier: the package is optional, so the type checker must not require it.
  const specifier: string = CLOUDFORMATION_PACKAGE;
  try {
    return (await import(specifier)) as CloudFormationModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' || (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(`chirp login --stack needs ${CLOUDFORMATION_PACKAGE}: run \`npm install ${CLOUDFORMATION_PACKAGE}\`, or log in with \`chirp login <ApiUrl> --token <admin token>\`.`);
    }
    throw err;
  }
}

export async function stackCredentials(stackName: string, region: string | undefined): Promise<{ url: string; adminToken: string }> {
  const cfn = await loadCloudFormation();
  const client = new cfn.CloudFormationClient(region ? { region } : {});
  let outputs: StackOutput[];
  try {
    const result = await client.send(new cfn.DescribeStacksCommand({ StackName: stackName }));
    outputs = result.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    throw new CliError(`Cannot describe stack ${stackName}: ${(err as Error).message}`);
  } finally {
    client.destroy();
  }
  const output = (key: string): string => {
    const value = outputs.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new CliError(`Stack ${stackName} has no ${key} output: is it a Chirp stack, and finished deploying?`);
    return value;
  };
  const url = output('ApiUrl').replace(/\/+$/, '');
  const secretArn = output('AdminTokenSecretArn');
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  // The secret's ARN names its region; the stack's outputs came from the same one.
  const secretRegion = region ?? secretArn.split(':')[3];
  const secrets = new SecretsManagerClient(secretRegion ? { region: secretRegion } : {});
  try {
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!secret.SecretString) throw new CliError(`The admin token secret ${secretArn} is empty.`);
    return { url, adminToken: secret.SecretString };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`Cannot read the admin token from Secrets Manager (${secretArn}): ${(err as Error).message}`);
  } finally {
    secrets.destroy();
  }
}
