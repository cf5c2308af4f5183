/**
 * The PATCH content types of the API server, applied to a stored object:
 * - `application/merge-patch+json` (RFC 7386): objects merge, `null` deletes, lists replace.
 * - `application/strategic-merge-patch+json` (built-in types only): as merge patch, except
 *   lists whose schema has `x-kubernetes-patch-strategy: merge` merge item by item on their
 *   `x-kubernetes-patch-merge-key` (containers by name, env by name, ports by port...), and
 *   the `$patch: delete|replace` directives.
 * - `application/apply-patch+yaml` (server-side apply; YAML or JSON): the applied
 *   configuration is merged over the live object, lists of `x-kubernetes-list-type: map`
 *   (or with a patch merge key) by their keys, other lists replaced. The field manager is
 *   recorded in `metadata.managedFields`. Simplification: ownership of fields is not
 *   tracked, so there are no apply conflicts and fields dropped from a later apply stay.
 * - `application/json-patch+json` (RFC 6902): add, remove, replace, test, move, copy.
 */
import type { Resource, SchemaNode } from './kubernetes-resources.ts'
import { badRequest } from './kubernetes-status.ts'
import { isObject, type Json, type JsonObject } from './kubernetes-validate.ts'

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const
export type PatchType = (typeof PATCH_TYPES)[number]

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch)
  const out: JsonObject = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key] ?? null, value)
  }
  return out
}

class SchemaCursor {
  constructor(
    private readonly schemas: Record<string, SchemaNode>,
    readonly node: SchemaNode | undefined,
  ) {}

  private resolved(): SchemaNode | undefined {
    let node = this.node
    for (let depth = 0; node !== undefined && depth < 8; depth++) {
      if (node.$ref !== undefined) node = { ...this.schemas[node.$ref.split('/').at(-1) ?? ''], ...node, $ref: undefined }
      else if (node.allOf?.length === 1 && node.type === undefined) node = { ...node.allOf[0], ...node, allOf: undefined }
      else break
    }
    return node
  }

  property(key: string): SchemaCursor {
    const node = this.resolved()
    const next = node?.properties?.[key] ?? (isObject(node?.additionalProperties as Json) ? (node?.additionalProperties as SchemaNode) : undefined)
    return new SchemaCursor(this.schemas, next)
  }

  items(): SchemaCursor {
    return new SchemaCursor(this.schemas, this.resolved()?.items)
  }

  /** The keys list items merge on, or null when the list is replaced whole. */
  mergeKeys(mode: 'strategic' | 'apply'): string[] | null {
    const node = this.node === undefined ? undefined : { ...this.resolved(), ...this.node }
    if (node === undefined) return null
    if (node['x-kubernetes-patch-strategy']?.split(',').includes('merge') && node['x-kubernetes-patch-merge-key'] !== undefined) return [node['x-kubernetes-patch-merge-key']]
    if (mode === 'apply' && node['x-kubernetes-list-type'] === 'map' && node['x-kubernetes-list-map-keys'] !== undefined) return node['x-kubernetes-list-map-keys']
    return null
  }
}

function sameKeys(a: Json, b: Json, keys: string[]): boolean {
  return isObject(a) && isObject(b) && keys.every((key) => JSON.stringify(a[key] ?? null) === JSON.stringify(b[key] ?? null))
}

function keyedMerge(target: Json, patch: Json, schema: SchemaCursor, mode: 'strategic' | 'apply'): Json {
  if (Array.isArray(patch)) {
    const keys = schema.mergeKeys(mode)
    if (keys === null || !Array.isArray(target)) return patch.filter((item) => !(isObject(item) && item.$patch !== undefined)).map((item) => structuredClone(item))
    if (patch.some((item) => isObject(item) && item.$patch === 'replace')) return patch.filter((item) => !(isObject(item) && item.$patch === 'replace'))
    const out = [...target]
    for (const item of patch) {
      const index = out.findIndex((existing) => sameKeys(existing, item, keys))
      if (isObject(item) && item.$patch === 'delete') {
        if (index >= 0) out.splice(index, 1)
        continue
      }
      if (index >= 0) out[index] = keyedMerge(out[index]!, item, schema.items(), mode)
      else out.push(keyedMerge(null, item, schema.items(), mode))
    }
    return out
  }
  if (!isObject(patch)) return structuredClone(patch)
  if (patch.$patch === 'replace') {
    const { $patch: _replace, ...rest } = patch
    return rest
  }
  if (patch.$patch === 'delete') return null
  const out: JsonObject = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue
    if (value === null) delete out[key]
    else out[key] = keyedMerge(out[key] ?? null, value, schema.property(key), mode)
  }
  return out
}

export function strategicMergePatch(resource: Resource, target: Json, patch: Json): Json {
  return keyedMerge(target, patch, new SchemaCursor(resource.openapi.schemas, resource.openapi.schemas[resource.openapi.root]), 'strategic')
}

export function applyPatch(resource: Resource, target: Json, applied: Json): Json {
  return keyedMerge(target, applied, new SchemaCursor(resource.openapi.schemas, resource.openapi.schemas[resource.openapi.root]), 'apply')
}

/** RFC 6901 pointer segments. */
function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(path)}`)
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('the server rejected our request due to an error in our request: a JSON patch is a list of operations')
  let doc = structuredClone(target)
  const get = (segments: string[]): Json | undefined => {
    let node: Json | undefined = doc
    for (const s of segments) node = Array.isArray(node) ? node[Number(s)] : isObject(node) ? node[s] : undefined
    return node
  }
  const set = (segments: string[], value: Json | undefined, insert: boolean): void => {
    if (segments.length === 0) {
      doc = value ?? null
      return
    }
    const parent = get(segments.slice(0, -1))
    const last = segments.at(-1)!
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last)
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw badRequest(`the server rejected our request due to an error in our request: index ${last} out of range`)
      if (value === undefined) parent.splice(index, 1)
      else if (insert) parent.splice(index, 0, value)
      else parent[index] = value
    } else if (isObject(parent)) {
      if (value === undefined) delete parent[last]
      else parent[last] = value
    } else throw badRequest(`the server rejected our request due to an error in our request: missing path ${segments.join('/')}`)
  }
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest('the server rejected our request due to an error in our request: each operation needs op and path')
    const path = pointer(raw.path)
    switch (raw.op) {
      case 'add':
        set(path, structuredClone(raw.value ?? null), true)
        break
      case 'replace':
        if (get(path) === undefined) throw badRequest(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${raw.path}`)
        set(path, structuredClone(raw.value ?? null), false)
        break
      case 'remove':
        if (get(path) === undefined) throw badRequest(`the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: ${raw.path}`)
        set(path, undefined, false)
        break
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(raw.value)) throw new TestFailed(raw.path)
        break
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw badRequest('the server rejected our request due to an error in our request: move and copy need from')
        const from = pointer(raw.from)
        const value = get(from)
        if (value === undefined) throw badRequest(`the server rejected our request due to an error in our request: missing path ${raw.from}`)
        if (raw.op === 'move') set(from, undefined, false)
        set(path, structuredClone(value), true)
        break
      }
      default:
        throw badRequest(`the server rejected our request due to an error in our request: unexpected kind: ${raw.op}`)
    }
  }
  return doc
}

/** A failed `test` operation: the API server answers 422 (handled by the caller). */
export class TestFailed extends Error {
  constructor(readonly path: string) {
    super(`testing value ${path} failed`)
  }
}
