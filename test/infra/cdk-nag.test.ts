import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIST_SECRETS_REASON } from '../../infra/constructs/connection-secrets';
import { createZohoSyncApp } from '../../infra/zoho-sync-app';
import { ENV } from '../../lib/config';
import { logicalId, type Synthesized, scheduledFunction, synthZohoSync } from './synth-zoho-sync';

/*
 * cdk-nag 3 is a policy-validation plugin, not an Aspect: it reports nothing through
 * Annotations (so `Annotations.fromStack(stack).findError(...)` would always be empty and prove
 * nothing). During synth CDK runs the plugin, writes every unacknowledged finding, errors and
 * warnings alike, to <outdir>/validation-report.json, and throws when an error is left. These
 * tests therefore (1) synthesize, which must not throw, (2) read that report, and (3) run the
 * pack directly over the construct tree, which returns warnings too.
 */

interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly { readonly ruleName: string; readonly severity: string }[];
  }[];
}

const awsSolutionsFindings = (synthesized: Synthesized): string[] => {
  const reportPath = join(synthesized.app.outdir, 'validation-report.json');
  const report: ValidationReport = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport)
    : { pluginReports: [] };
  return report.pluginReports
    .filter((plugin) => plugin.pluginName === 'AwsSolutions')
    .flatMap((plugin) => plugin.violations)
    .map((violation) => `${violation.severity} ${violation.ruleName}`);
};

const directFindings = (scope: IConstruct): string[] =>
  new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(scope)
    .violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName} at ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );

/** Every acknowledgement in the tree: rule id -> its reasons. */
const acknowledgements = (scope: IConstruct): Map<string, string[]> => {
  const found = new Map<string, string[]>();
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        const ruleId = key.replace(/^annotation::/i, '');
        found.set(ruleId, [...(found.get(ruleId) ?? []), reason]);
      }
    }
  }
  return found;
};

const secretWildcard = (name: string) =>
  `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}]`;
const SECRETS_WILDCARD = secretWildcard('zoho-sync/*');
const WEBHOOK_WILDCARD = secretWildcard('zoho-sync/*/webhook-??????');
const ACCESS_TOKEN_WILDCARD = secretWildcard('zoho-sync/*/access-token-??????');
const ACCESS_TOKEN_CREATE_WILDCARD = secretWildcard('zoho-sync/*/access-token*');
const WEBHOOK_CREATE_WILDCARD = secretWildcard('zoho-sync/*/webhook*');
const ANY_RESOURCE = 'AwsSolutions-IAM5[Resource::*]';

describe('cdk-nag AwsSolutions', () => {
  describe('with the default context', () => {
    let synthesized: Synthesized;

    beforeAll(() => {
      synthesized = synthZohoSync();
    });

    it('leaves no unacknowledged finding in the synth validation report', () => {
      expect(awsSolutionsFindings(synthesized)).toStrictEqual([]);
    });

    it('finds no error or warning when the pack runs over the whole app', () => {
      expect(directFindings(synthesized.app)).toStrictEqual([]);
    });

    it('acknowledges exactly the reviewed rules, each with a reason', () => {
      const acknowledged = acknowledgements(synthesized.app);
      expect([...acknowledged.keys()].sort()).toStrictEqual(
        [
          'AwsSolutions-APIG4',
          SECRETS_WILDCARD,
          WEBHOOK_WILDCARD,
          ACCESS_TOKEN_WILDCARD,
          ACCESS_TOKEN_CREATE_WILDCARD,
          WEBHOOK_CREATE_WILDCARD,
          ANY_RESOURCE,
          'AwsSolutions-L1',
        ].sort(),
      );
      // Where: both routes; credentials on the worker, channel renewal, the sweep and the
      // deploy-time migration (not the webhook, which reads only the webhook secrets); each of
      // the six functions.
      expect(acknowledged.get('AwsSolutions-APIG4')).toHaveLength(2);
      expect(acknowledged.get(SECRETS_WILDCARD)).toHaveLength(4);
      expect(acknowledged.get(WEBHOOK_WILDCARD)).toHaveLength(1);
      expect(acknowledged.get(ACCESS_TOKEN_WILDCARD)).toHaveLength(3);
      expect(acknowledged.get(ACCESS_TOKEN_CREATE_WILDCARD)).toHaveLength(3);
      expect(acknowledged.get(WEBHOOK_CREATE_WILDCARD)).toHaveLength(1);
      expect(acknowledged.get('AwsSolutions-L1')).toHaveLength(6);
      // ListSecrets, on the three roles that list connections, and nothing else on "*".
      expect(acknowledged.get(ANY_RESOURCE)).toStrictEqual([
        LIST_SECRETS_REASON,
        LIST_SECRETS_REASON,
        LIST_SECRETS_REASON,
      ]);
      expect(LIST_SECRETS_REASON).toMatch(/ListSecrets/);
      expect(LIST_SECRETS_REASON).toMatch(/names and metadata only, never secret values/);
      expect(LIST_SECRETS_REASON).toMatch(/no resource-level permissions/);
      for (const reasons of acknowledged.values()) {
        for (const reason of reasons) expect(reason.length).toBeGreaterThan(60);
      }
    });
  });

  describe('with tracing and a custom domain', () => {
    let synthesized: Synthesized;

    beforeAll(() => {
      synthesized = synthZohoSync({
        context: {
          tracing: 'true',
          domainName: 'zoho-sync.example.com',
          certificateArn:
            'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
        },
      });
    });

    it('stays clean, acknowledging the X-Ray wildcard on each function role only', () => {
      expect(awsSolutionsFindings(synthesized)).toStrictEqual([]);
      expect(directFindings(synthesized.app)).toStrictEqual([]);
      const anyResource = acknowledgements(synthesized.app).get(ANY_RESOURCE) ?? [];
      expect(anyResource.filter((reason) => /X-Ray/.test(reason))).toHaveLength(6);
      expect(anyResource.filter((reason) => reason === LIST_SECRETS_REASON)).toHaveLength(3);
      expect(anyResource).toHaveLength(9);
    });

    it('gives channel renewal the custom domain as its public base URL', () => {
      const { handler } = scheduledFunction(synthesized.stack, 'RenewChannels');
      const fn = synthesized.template.toJSON().Resources[
        logicalId(synthesized.stack, handler.function)
      ] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
      expect(fn.Properties.Environment.Variables[ENV.publicBaseUrl]).toBe(
        'https://zoho-sync.example.com/',
      );
    });

    it('maps the custom domain to the default stage and points the outputs at it', () => {
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'zoho-sync.example.com',
      });
      synthesized.template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
      const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs.WebhookUrl?.Value).toBe(
        'https://zoho-sync.example.com/webhooks/{connectionId}',
      );
      expect(outputs.CustomDomainTarget).toBeDefined();
    });
  });

  describe('on a new unacknowledged finding', () => {
    it('fails the synth, because createZohoSyncApp registers the pack', () => {
      const { stack } = createZohoSyncApp({
        context: { 'aws:cdk:bundling-stacks': [] },
        scheduledFunctions: [],
      });
      // A queue without DLQ and without TLS enforcement: AwsSolutions-SQS3 and -SQS4.
      new Queue(stack, 'UncheckedQueue');
      expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/);
    });

    it('is returned by the direct run too', () => {
      const { app, stack } = createZohoSyncApp({
        context: { 'aws:cdk:bundling-stacks': [] },
        scheduledFunctions: [],
      });
      new Queue(stack, 'UncheckedQueue');
      expect(directFindings(app)).toStrictEqual([
        'error AwsSolutions-SQS3 at ZohoSync/UncheckedQueue/Resource',
        'error AwsSolutions-SQS4 at ZohoSync/UncheckedQueue/Resource',
      ]);
    });
  });
});
