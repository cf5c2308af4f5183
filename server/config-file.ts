import { readFile, stat } from 'node:fs/promises'
import type { Bus } from '../schema/events/bus.ts'
import { parseSpec, type AppSpec } from '../schema/spec.ts'
import { parseText } from '../schema/spec/text.ts'
import type { Store } from '../schema/store/index.ts'
import { ConfigError } from './config.ts'

/** A config file holds many specs; each one is still held to the single-spec limit. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024
export const MAX_CONFIG_APPLICATIONS = 1000

/**
 * Reads SENTRA_CONFIG: `applications:` followed by a list of application specs (the same
 * documents as `sentra apply -f`). Every spec is validated before any is applied, so a file
 * with one bad spec changes nothing; the error names the file, the entry and the field.
 */
export async function readConfigFile(path: string): Promise<AppSpec[]> {
  const where = `SENTRA_CONFIG (${path})`
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    throw new ConfigError(`${where}: cannot read it: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (size > MAX_CONFIG_FILE_BYTES) throw new ConfigError(`${where}: is ${Math.ceil(size / 1024)} KiB; the limit is ${MAX_CONFIG_FILE_BYTES / 1024} KiB`)
  const read = parseText(await readFile(path, 'utf8'), MAX_CONFIG_FILE_BYTES)
  if (!read.ok) throw new ConfigError(`${where}: ${read.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ')}`)
  const root = read.value
  const list = typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as Record<string, unknown>).applications : undefined
  if (!Array.isArray(list)) throw new ConfigError(`${where}: must be a mapping with an \`applications:\` list of application specs`)
  if (list.length > MAX_CONFIG_APPLICATIONS) throw new ConfigError(`${where}: has ${list.length} applications; the limit is ${MAX_CONFIG_APPLICATIONS}`)
  const specs: AppSpec[] = []
  const names = new Set<string>()
  for (const [index, entry] of list.entries()) {
    const parsed = parseSpec(entry)
    const label = `applications[${index}]${typeof (entry as { name?: unknown })?.name === 'string' ? ` (${(entry as { name: string }).name})` : ''}`
    if (!parsed.ok) throw new ConfigError(`${where}: ${label}: ${parsed.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ')}`)
    if (names.has(parsed.spec.name)) throw new ConfigError(`${where}: ${label}: the application ${parsed.spec.name} is listed twice`)
    names.add(parsed.spec.name)
    specs.push(parsed.spec)
  }
  return specs
}

/** Applies SENTRA_CONFIG's applications (create or update), as `applyApplication` does. */
export async function applyConfigFile(path: string, store: Store, bus: Bus): Promise<AppSpec[]> {
  const specs = await readConfigFile(path)
  for (const spec of specs) {
    const app = await store.applications.upsert(spec.name, spec)
    await bus.publish('application.changed', { applicationId: app.id, name: app.name, at: new Date().toISOString() })
  }
  return specs
}
