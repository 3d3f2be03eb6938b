#!/usr/bin/env node
/**
 * The CDK app: reads the configuration (chirp.config.json, overridden by `-c chirp='{…}'` or
 * `-c chirp.<setting>=…`), creates the one stack and attaches cdk-nag's AwsSolutions checks, so
 * `cdk synth` fails on any finding that is neither fixed nor acknowledged with a reason.
 */
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChirpStack } from '../lib/chirp-stack';
import { ChirpConfigError, contextOverrides, DEFAULT_CONFIG_FILE, loadConfig, readConfigFile, type ChirpConfig } from '../lib/config';

function readConfig(app: App): ChirpConfig {
  const file = path.resolve(__dirname, '..', DEFAULT_CONFIG_FILE);
  const contextKeys = Object.keys(app.node.getAllContext());
  try {
    return loadConfig(readConfigFile(file), ...contextOverrides((key) => app.node.tryGetContext(key), contextKeys));
  } catch (err) {
    if (err instanceof ChirpConfigError) {
      console.error(`${err.message}\n\nEdit ${DEFAULT_CONFIG_FILE} or pass -c chirp.<setting>=<value>; see docs/deploy.md.`);
      process.exit(1);
    }
    throw err;
  }
}

const app = new App();
const config = readConfig(app);

// Env-agnostic on purpose: the stack deploys to the account and region of the caller's
// credentials (AWS_PROFILE / AWS_REGION), and synthesizes offline with no credentials at all.
new ChirpStack(app, config.stackName, { config });

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
