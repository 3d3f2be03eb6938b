/**
 * ActivityTable and KeyTable, built from the shared definitions in
 * `lambda/adapters/dynamo/table-definitions.ts` so that key names, indexes and the TTL attribute
 * are the same in AWS, in local mode and in the tests. On-demand billing, point-in-time recovery,
 * TTL as storage hygiene, generated physical names, and the removal policy the user chose.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  ACTIVITY_TABLE,
  KEY_TABLE,
  type AttributeDef,
  type TableDef,
} from '../../lambda/adapters/dynamo/table-definitions';
import type { RemovalPolicyName } from '../config';

export interface ChirpTablesProps {
  readonly removalPolicy: RemovalPolicyName;
}

export class ChirpTables extends Construct {
  readonly activityTable: dynamodb.Table;
  readonly keyTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ChirpTablesProps) {
    super(scope, id);
    this.activityTable = tableFromDefinition(this, ACTIVITY_TABLE, props.removalPolicy);
    this.keyTable = tableFromDefinition(this, KEY_TABLE, props.removalPolicy);
  }
}

function attribute(def: AttributeDef): dynamodb.Attribute {
  return { name: def.name, type: def.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING };
}

/** One DynamoDB table from a shared {@link TableDef}; the construct id is the definition's name. */
export function tableFromDefinition(scope: Construct, def: TableDef, removal: RemovalPolicyName): dynamodb.Table {
  const retain = removal === 'retain';
  const table = new dynamodb.Table(scope, def.name, {
    partitionKey: attribute(def.partitionKey),
    sortKey: attribute(def.sortKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: def.ttlAttribute,
    // With "retain" the table also refuses a manual delete until protection is turned off;
    // with "destroy" CloudFormation must be able to delete it.
    deletionProtection: retain,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of def.globalIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}
