/**
 * The stand-in's storage: objects per resource and namespace, one cluster-wide
 * resourceVersion counter (as etcd's revision), and a bounded log of change events from
 * which watches resume (`resourceVersion=N` older than the log → 410 Expired in-band).
 */
import { randomUUID } from 'node:crypto'
import type { Resource } from './kubernetes-resources.ts'
import type { Matcher } from './kubernetes-selectors.ts'
import { isObject, type JsonObject } from './kubernetes-validate.ts'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoredEvent {
  resourceVersion: number
  type: EventType
  resource: Resource
  object: JsonObject
}

export interface Watcher {
  resource: Resource
  namespace: string | null
  matches: Matcher
  send(event: StoredEvent): void
}

/** How many change events are kept for watches to resume from. */
const EVENT_LOG_SIZE = 2000

export function metadataOf(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {}
  return object.metadata as JsonObject
}

export class ObjectStore {
  #objects = new Map<string, JsonObject>()
  #revision = 1000
  #log: StoredEvent[] = []
  #watchers = new Set<Watcher>()
  /** Called after each change (the Deployment controller reacts to spec changes). */
  onChange: (event: StoredEvent) => void = () => {}

  get revision(): number {
    return this.#revision
  }

  /** The oldest resourceVersion a watch can still resume after. */
  get oldestResumable(): number {
    return this.#log[0]?.resourceVersion ?? this.#revision
  }

  #key(resource: Resource, namespace: string, name: string): string {
    return `${resource.plural}.${resource.group}/${namespace}/${name}`
  }

  get(resource: Resource, namespace: string, name: string): JsonObject | undefined {
    const found = this.#objects.get(this.#key(resource, namespace, name))
    return found === undefined ? undefined : structuredClone(found)
  }

  list(resource: Resource, namespace: string | null, matches: Matcher): JsonObject[] {
    const prefix = `${resource.plural}.${resource.group}/${namespace === null ? '' : `${namespace}/`}`
    return [...this.#objects.entries()]
      .filter(([key, object]) => key.startsWith(prefix) && matches(object))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, object]) => structuredClone(object))
  }

  /** Stores a new object: uid, creationTimestamp, generation 1 and a resourceVersion are set here. */
  create(resource: Resource, namespace: string, object: JsonObject): JsonObject {
    const metadata = metadataOf(object)
    metadata.uid = randomUUID()
    metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    metadata.generation = 1
    metadata.namespace = namespace
    return this.#write(resource, namespace, object, 'ADDED')
  }

  /** Replaces a stored object; generation goes up when the spec changed. */
  replace(resource: Resource, namespace: string, object: JsonObject, previous: JsonObject): JsonObject {
    const metadata = metadataOf(object)
    const before = metadataOf(previous)
    metadata.uid = before.uid ?? null
    metadata.creationTimestamp = before.creationTimestamp ?? null
    metadata.namespace = namespace
    const generation = typeof before.generation === 'number' ? before.generation : 1
    metadata.generation = JSON.stringify(object.spec ?? null) === JSON.stringify(previous.spec ?? null) ? generation : generation + 1
    const unchanged = JSON.stringify({ ...object, metadata: { ...metadata, resourceVersion: null } }) === JSON.stringify({ ...previous, metadata: { ...before, resourceVersion: null } })
    // A no-op write keeps the resourceVersion and sends no event, as the API server does.
    if (unchanged) return structuredClone(previous)
    return this.#write(resource, namespace, object, 'MODIFIED')
  }

  delete(resource: Resource, namespace: string, name: string): JsonObject | undefined {
    const key = this.#key(resource, namespace, name)
    const existing = this.#objects.get(key)
    if (existing === undefined) return undefined
    this.#objects.delete(key)
    const gone = structuredClone(existing)
    metadataOf(gone).resourceVersion = String(++this.#revision)
    this.#emit({ resourceVersion: this.#revision, type: 'DELETED', resource, object: gone })
    return gone
  }

  watch(watcher: Watcher): () => void {
    this.#watchers.add(watcher)
    return () => this.#watchers.delete(watcher)
  }

  /** Events after `resourceVersion` for a resuming watch. */
  eventsAfter(resourceVersion: number): StoredEvent[] {
    return this.#log.filter((event) => event.resourceVersion > resourceVersion)
  }

  #write(resource: Resource, namespace: string, object: JsonObject, type: EventType): JsonObject {
    const metadata = metadataOf(object)
    metadata.resourceVersion = String(++this.#revision)
    const name = String(metadata.name)
    this.#objects.set(this.#key(resource, namespace, name), structuredClone(object))
    this.#emit({ resourceVersion: this.#revision, type, resource, object: structuredClone(object) })
    return structuredClone(object)
  }

  #emit(event: StoredEvent): void {
    this.#log.push(event)
    if (this.#log.length > EVENT_LOG_SIZE) this.#log.shift()
    for (const watcher of this.#watchers) {
      const namespace = metadataOf(event.object).namespace
      if (watcher.resource === event.resource && (watcher.namespace === null || watcher.namespace === namespace) && watcher.matches(event.object)) watcher.send(event)
    }
    this.onChange(event)
  }
}
