/**
 * Secrets the stack generates itself. Their values are created by Secrets Manager at deploy time
 * and never appear in the template. (The APNs .p8 is not here: it is the user's, referenced by
 * name in `ChirpPush`.)
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface ChirpSecretsProps {
  /** Applies to the key-tag key, which issued keys depend on; the admin token is always deleted. */
  readonly removalPolicy: RemovalPolicy;
}

export class ChirpSecrets extends Construct {
  /** The admin bearer token (api function only). */
  readonly adminToken: secretsmanager.Secret;
  /** HMAC key that tags webhook and device keys so forged keys fail before any database read. */
  readonly keyTag: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ChirpSecretsProps) {
    super(scope, id);
    this.adminToken = new secretsmanager.Secret(this, 'AdminToken', {
      description: 'Chirp admin token (Authorization: Bearer …) for /v1/devices, /v1/inspectors and /v1/admin',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.keyTag = new secretsmanager.Secret(this, 'KeyTagKey', {
      description: 'Chirp HMAC key for webhook and device key tags (rotating it invalidates every issued key)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // Losing this key invalidates every webhook URL already pasted into Replicate calls, so it
      // follows the tables: retained tables keep their keys' secret too.
      removalPolicy: props.removalPolicy,
    });
  }
}
