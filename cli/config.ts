/**
 * Where `chirp login` keeps credentials: `~/.config/chirp/credentials.json` (or
 * `$XDG_CONFIG_HOME/chirp`, or `$CHIRP_CONFIG_DIR`), readable by the user only (0600 in a 0700
 * directory). `CHIRP_URL` + `CHIRP_ADMIN_TOKEN` in the environment win over the file (CI).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors';

export interface Profile {
  url: string;
  adminToken: string;
  /** How the profile was made, so `chirp login` can say where it came from. */
  source: 'url' | 'local' | 'stack';
  stackName?: string;
  region?: string;
  /** Local mode: the demo inspector's webhook URL, the default target of `chirp simulate replicate`. */
  webhookUrl?: string;
}

export interface Credentials {
  current: string;
  profiles: Record<string, Profile>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHIRP_CONFIG_DIR) return env.CHIRP_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'chirp');
  return join(homedir(), '.config', 'chirp');
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'credentials.json');
}

export async function readCredentials(env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { current: 'default', profiles: {} };
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<Credentials>;
    return { current: typeof parsed.current === 'string' ? parsed.current : 'default', profiles: parsed.profiles ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON: fix it or delete it and run chirp login again.`);
  }
}

export async function writeCredentials(credentials: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile(env);
  // Write-then-rename so a crash never leaves half a file; the temp file is private from the start.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

/** The profile to use: the environment's, else `--profile`, else the file's current one. */
export async function resolveProfile(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Profile> {
  if (env.CHIRP_URL && env.CHIRP_ADMIN_TOKEN) return { url: env.CHIRP_URL.replace(/\/+$/, ''), adminToken: env.CHIRP_ADMIN_TOKEN, source: 'url' };
  const credentials = await readCredentials(env);
  const profileName = name ?? credentials.current;
  const profile = credentials.profiles[profileName];
  if (!profile) {
    throw new CliError(
      Object.keys(credentials.profiles).length === 0
        ? 'Not logged in. Run `chirp login --local` (npm start), `chirp login <url> --token <admin token>` or `chirp login --stack <name>`.'
        : `No profile "${profileName}". Known: ${Object.keys(credentials.profiles).join(', ')}.`,
    );
  }
  return profile;
}
