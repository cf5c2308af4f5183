import { readFile, stat } from 'node:fs/promises'
import { prepareApplication } from '../schema/application-apply.ts'
import type { Bus } from '../schema/events/bus.ts'
import { parseSpec, type AppSpec, type SpecIssue } from '../schema/spec.ts'
import { parseText } from '../schema/spec/text.ts'
import type { Store } from '../schema/store/index.ts'
import { ConfigError } from './config.ts'

/** A config file holds many specs; each one is still held to the single-spec limit. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024
export const MAX_CONFIG_APPLICATIONS = 1000

interface ConfigEntry {
  /** `applications[3] (checkout)`, for messages. */
  label: string
  value: unknown
}

const describeIssues = (issues: readonly SpecIssue[]) => issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ')

/** SENTRA_CONFIG's entries, checked as a file: size, shape, count, no name twice. */
async function readEntries(path: string): Promise<{ where: string; entries: ConfigEntry[] }> {
  const where = `SENTRA_CONFIG (${path})`
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    throw new ConfigError(`${where}: cannot read it: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (size > MAX_CONFIG_FILE_BYTES) throw new ConfigError(`${where}: is ${Math.ceil(size / 1024)} KiB; the limit is ${MAX_CONFIG_FILE_BYTES / 1024} KiB`)
  const read = parseText(await readFile(path, 'utf8'), MAX_CONFIG_FILE_BYTES)
  if (!read.ok) throw new ConfigError(`${where}: ${describeIssues(read.issues)}`)
  const root = read.value
  const list = typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as Record<string, unknown>).applications : undefined
  if (!Array.isArray(list)) throw new ConfigError(`${where}: must be a mapping with an \`applications:\` list of application specs`)
  if (list.length > MAX_CONFIG_APPLICATIONS) throw new ConfigError(`${where}: has ${list.length} applications; the limit is ${MAX_CONFIG_APPLICATIONS}`)
  const names = new Set<string>()
  const entries = list.map((value: unknown, index) => {
    const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined
    const label = `applications[${index}]${typeof name === 'string' ? ` (${name.slice(0, 63)})` : ''}`
    if (typeof name === 'string') {
      if (names.has(name)) throw new ConfigError(`${where}: ${label}: the application ${name.slice(0, 63)} is listed twice`)
      names.add(name)
    }
    return { label, value }
  })
  return { where, entries }
}

/**
 * Reads SENTRA_CONFIG: `applications:` followed by a list of application specs (the same
 * documents as `sentra apply -f`), each validated on its own (no policies: that needs the
 * store, see {@link applyConfigFile}). The error names the file, the entry and the field.
 */
export async function readConfigFile(path: string): Promise<AppSpec[]> {
  const { where, entries } = await readEntries(path)
  return entries.map(({ label, value }) => {
    const parsed = parseSpec(value)
    if (!parsed.ok) throw new ConfigError(`${where}: ${label}: ${describeIssues(parsed.issues)}`)
    return parsed.spec
  })
}

/**
 * Applies SENTRA_CONFIG's applications (create or update) as `applyApplication` does —
 * policies applied, guardrails checked — every spec before any is stored, so a file with one
 * bad spec changes nothing.
 */
export async function applyConfigFile(path: string, store: Store, bus: Bus): Promise<AppSpec[]> {
  const { where, entries } = await readEntries(path)
  const specs: AppSpec[] = []
  for (const { label, value } of entries) {
    const prepared = await prepareApplication(store.policies, value)
    if (!prepared.ok) throw new ConfigError(`${where}: ${label}: ${describeIssues(prepared.issues)}`)
    specs.push(prepared.spec)
  }
  for (const spec of specs) {
    const app = await store.applications.upsert(spec.name, spec)
    await bus.publish('application.changed', { applicationId: app.id, name: app.name, at: new Date().toISOString() })
  }
  return specs
}
