import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_KEY } from '../../lib/aws/table-keys';

/**
 * The item-level actions zoho-sync's code uses on its table (reads by key, conditional writes,
 * transactions, the PARKED query). TransactWriteItems is authorized per contained action, so
 * it needs no entry of its own. No Scan, no DescribeTable, no streams, no table admin.
 */
export const TABLE_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The one DynamoDB table (key scheme: lib/aws/table-keys.ts). On-demand, point-in-time
 * recovery, TTL on `ttl`, deletion protection, and retained when the stack is deleted: it holds
 * the CRM -> Books id mappings, which cannot be rebuilt without duplicating Books records.
 */
export class StateTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEY.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sort, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEY.ttl,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Grants {@link TABLE_DATA_ACTIONS} on the table (and nothing on other tables). */
  grantData(grantee: IGrantable): Grant {
    return this.table.grant(grantee, ...TABLE_DATA_ACTIONS);
  }
}
