/**
 * Test helpers for the stack: build a ChirpStack from a configuration (the committed example
 * plus overrides), with the feature flags of cdk.json, without bundling unless asked, and find
 * resources by what they are rather than by logical id.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ChirpStack } from '../../lib/chirp-stack';
import { loadConfig } from '../../lib/config';

export const ROOT = path.resolve(__dirname, '..', '..');

const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
export const EXAMPLE_CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, 'chirp.config.json'), 'utf8')) as Record<string, unknown>;

export interface Synthesized {
  app: App;
  stack: ChirpStack;
  template: Template;
}

/** Builds the stack from chirp.config.json + overrides. `bundle: true` runs esbuild for every function. */
export function synth(overrides: Record<string, unknown> = {}, options: { bundle?: boolean; outdir?: string } = {}): Synthesized {
  const context: Record<string, unknown> = { ...cdkJson.context };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const config = loadConfig(EXAMPLE_CONFIG, overrides);
  const stack = new ChirpStack(app, config.stackName, { config });
  return { app, stack, template: Template.fromStack(stack) };
}

const cache = new Map<string, Synthesized>();
/** Same as {@link synth} without bundling, memoised per configuration (templates are read-only). */
export function synthCached(overrides: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(overrides);
  let result = cache.get(key);
  if (!result) {
    result = synth(overrides);
    cache.set(key, result);
  }
  return result;
}

/** The logical id CDK allocated to a construct's CloudFormation resource (resolved, never hard-coded). */
export function logicalId(construct: IConstruct): string {
  const child = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(child instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(child);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every IAM statement attached (inline policy or AWS::IAM::Policy) to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties.Roles as unknown[]);
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) {
      out.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
    }
  }
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId];
  for (const inline of asArray(role?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[])) {
    out.push(...inline.PolicyDocument.Statement);
  }
  return out;
}

/** Every IAM statement in the template, with the logical ids of the roles it is attached to. */
export function allStatements(template: Template): { roles: string[]; statement: Statement }[] {
  const out: { roles: string[]; statement: Statement }[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) out.push({ roles, statement });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of asArray(role.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[])) {
      for (const statement of inline.PolicyDocument.Statement) out.push({ roles: [id], statement });
    }
  }
  return out;
}

/** Role logical id of a Lambda function construct. */
export function roleOf(template: Template, functionLogicalId: string): string {
  const fn = template.findResources('AWS::Lambda::Function')[functionLogicalId];
  const role = fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
  if (!role) throw new Error(`function ${functionLogicalId} not found`);
  return role['Fn::GetAtt'][0];
}

/** Environment variables of a function as synthesized. */
export function envOf(template: Template, functionLogicalId: string): Record<string, unknown> {
  const fn = template.findResources('AWS::Lambda::Function')[functionLogicalId];
  return (fn?.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
}

export function actionsOf(statement: Statement): string[] {
  return asArray(statement.Action);
}

/** JSON text of a statement's resources, for "does it mention this ARN" checks. */
export function resourcesText(statement: Statement): string {
  return JSON.stringify(statement.Resource);
}
