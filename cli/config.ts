import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { ConfigError } from './errors.ts'
import { connectionFor, normalizeServerUrl, tokenProblem, type Connection } from './connection.ts'

/** What `sentra login` saves. */
export interface SavedLogin {
  url: string
  token: string
}

export type Env = Readonly<Record<string, string | undefined>>

/** `$XDG_CONFIG_HOME/sentra/config.json`, by default `~/.config/sentra/config.json`. */
export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config')
  return join(base, 'sentra', 'config.json')
}

/** The saved login, null when there is none; a file that is not one is a {@link ConfigError}. */
export async function readLogin(env: Env): Promise<SavedLogin | null> {
  const path = configPath(env)
  let text: string
  try {
    const info = await stat(path)
    if (info.size > 64 * 1024) throw new ConfigError(`${path} is too large to be a Sentra config; run \`sentra login\` again`)
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ConfigError(`${path} is not valid JSON; run \`sentra login\` again`)
  }
  const record = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  if (typeof record.url !== 'string' || typeof record.token !== 'string') {
    throw new ConfigError(`${path} has no url and token; run \`sentra login\` again`)
  }
  return { url: record.url, token: record.token }
}

/** Saves the login readable by its owner only (0600, in a 0700 folder), replacing any before. */
export async function saveLogin(env: Env, login: SavedLogin): Promise<string> {
  const path = configPath(env)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const temporary = `${path}.${process.pid}.tmp`
  try {
    await rm(temporary, { force: true })
    await writeFile(temporary, `${JSON.stringify({ url: login.url, token: login.token }, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    await chmod(temporary, 0o600)
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw new ConfigError(`cannot write ${path}: ${(error as Error).message}`)
  }
  return path
}

/**
 * The connection to use: SENTRA_URL and SENTRA_TOKEN when set (each overrides the saved
 * value on its own), else what `sentra login` saved.
 */
export async function resolveConnection(env: Env): Promise<Connection> {
  const envUrl = env.SENTRA_URL || undefined
  const envToken = env.SENTRA_TOKEN || undefined
  const saved = envUrl && envToken ? null : await readLogin(env)
  const rawUrl = envUrl ?? saved?.url
  const token = envToken ?? saved?.token
  if (rawUrl === undefined || token === undefined) {
    throw new ConfigError('not logged in: run `sentra login <url> --token <token>`, or set SENTRA_URL and SENTRA_TOKEN')
  }
  const url = normalizeServerUrl(rawUrl)
  if (!url.ok) throw new ConfigError(`${envUrl ? 'SENTRA_URL' : `the saved URL in ${configPath(env)}`}: ${url.message}`)
  const problem = tokenProblem(token)
  if (problem) throw new ConfigError(`${envToken ? 'SENTRA_TOKEN' : `the saved token in ${configPath(env)}`} ${problem}`)
  return connectionFor(url.url, token)
}
