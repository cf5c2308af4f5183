/** Names, labels and image references of the containers the docker target runs. */
import { createHash } from 'node:crypto'
import type { AppSpec, DockerTargetSpec } from '../../schema/spec.ts'

/**
 * Labels on every container Sentra creates; after a restart Sentra finds its containers by
 * them. `role` is the role the container was created for: Docker cannot change the labels
 * of an existing container, so a promoted canary keeps `canary` (which one is stable is the
 * store's stable version, as for every target).
 */
export const LABELS = {
  application: 'sentra.application',
  version: 'sentra.version',
  role: 'sentra.role',
  /** The loopback port the container listens on (host networking), for adoption after a restart. */
  port: 'sentra.port',
} as const

export type ContainerRole = 'stable' | 'canary'

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead'

/** A container found by its labels. */
export interface ManagedContainer {
  id: string
  name: string
  application: string
  version: string
  role: string
  port: number
  state: ContainerState
  /** The engine's summary, e.g. "Exited (3) 2 seconds ago". */
  status: string
}

/** Docker's grammar for a tag. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/**
 * The image of `version`: the spec's image with {{version}} filled in. A version that would
 * make an invalid reference (Sentra versions may contain `+`, tags may not) is refused here,
 * with the reason, before anything is created.
 */
export function imageFor(spec: DockerTargetSpec, version: string): string {
  if (!spec.image.includes('{{version}}')) return spec.image
  const image = spec.image.replaceAll('{{version}}', version)
  const tagAt = spec.image.lastIndexOf(':')
  const digestAt = spec.image.indexOf('@')
  // {{version}} inside the tag must make a valid tag; elsewhere (e.g. the repository path) Docker's own check applies.
  if (tagAt >= 0 && digestAt < 0 && spec.image.slice(tagAt + 1).includes('{{version}}')) {
    const tag = image.slice(image.lastIndexOf(':') + 1)
    if (!TAG.test(tag)) throw new Error(`version "${version}" makes the image tag "${tag}", which Docker does not accept (letters, digits, _ . - only, at most 128)`)
  }
  return image
}

/**
 * One name per application and version, so a second create of the same version (a crash
 * between create and the next call) fails with a conflict instead of making a duplicate.
 * Characters a container name cannot hold are replaced, plus a hash so two versions never share a name.
 */
export function containerName(application: string, version: string): string {
  const safe = version.replace(/[^A-Za-z0-9_.-]/g, '_')
  const suffix = safe === version ? '' : `-${createHash('sha256').update(version).digest('hex').slice(0, 8)}`
  return `sentra-${application}-${safe}${suffix}`
}

export function dockerSpec(app: AppSpec): DockerTargetSpec {
  if (app.target.kind !== 'docker') throw new Error(`${app.name}: the docker target cannot run a target of kind ${app.target.kind}`)
  return app.target
}

/**
 * The container's environment: PORT (the loopback port Sentra chose; the application must
 * listen on it, since host networking gives no port mapping), then the spec's env with
 * {{version}} and {{port}} filled in; the spec may set PORT itself.
 */
export function containerEnv(spec: DockerTargetSpec, version: string, port: number): Record<string, string> {
  const fill = (text: string): string => text.replace(/\{\{(version|port)\}\}/g, (_, name: string) => (name === 'version' ? version : String(port)))
  return { PORT: String(port), ...Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, fill(value)])) }
}

export function containerLabels(application: string, version: string, role: ContainerRole, port: number): Record<string, string> {
  return { [LABELS.application]: application, [LABELS.version]: version, [LABELS.role]: role, [LABELS.port]: String(port) }
}
