#!/usr/bin/env node
/**
 * `chirp`: the command line for Chirp (cli/program.ts). Credentials come from `chirp login`
 * (~/.config/chirp/credentials.json, or $CHIRP_CONFIG_DIR) or from CHIRP_URL + CHIRP_ADMIN_TOKEN.
 */
import { runCli, type CliIO } from '../cli/program';

const io: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  fetch: (input, init) => fetch(input, init),
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`chirp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
