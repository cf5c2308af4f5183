/**
 * The verbs of the Kubernetes REST API over the stand-in's store: get, list, create,
 * update (PUT), patch (four content types), delete, and the status subresource. Each
 * returns the response body or throws a StatusError; watch streams are in kubernetes.ts.
 * Rules taken from kubernetes/apiserver `pkg/endpoints/handlers` and
 * `pkg/registry/generic/registry/store.go`.
 */
import { parse as parseYaml } from 'yaml'
import { applyBuiltinDefaults } from './kubernetes-defaults.ts'
import { applyPatch, jsonPatch, mergePatch, PATCH_TYPES, strategicMergePatch, TestFailed, type PatchType } from './kubernetes-patch.ts'
import { apiVersionOf, type Resource } from './kubernetes-resources.ts'
import { parseFieldSelector, parseLabelSelector } from './kubernetes-selectors.ts'
import { alreadyExists, badRequest, conflict, deleteSuccess, invalid, notFound, StatusError, unsupportedMediaType, type StatusBody } from './kubernetes-status.ts'
import { metadataOf, type ObjectStore } from './kubernetes-store.ts'
import { isObject, validateObject, type Json, type JsonObject } from './kubernetes-validate.ts'

export interface WriteOptions {
  fieldManager: string | null
  /** `fieldValidation=Strict` refuses unknown fields; otherwise they are dropped with a warning. */
  strict: boolean
  force: boolean
  /** The client's User-Agent, the default field manager as in the API server. */
  userAgent: string
}

export interface Answer {
  code: number
  body: Json | StatusBody
  warnings: string[]
}

const SERVER_FIELDS = ['uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp']

export class KubernetesApi {
  constructor(private readonly store: ObjectStore) {}

  get(resource: Resource, namespace: string, name: string): Answer {
    const object = this.store.get(resource, namespace, name)
    if (object === undefined) throw notFound(resource, name)
    return { code: 200, body: withType(resource, object), warnings: [] }
  }

  list(resource: Resource, namespace: string | null, labelSelector: string | null, fieldSelector: string | null): Answer {
    const labels = parseLabelSelector(labelSelector)
    const fields = parseFieldSelector(fieldSelector)
    const items = this.store.list(resource, namespace, (o) => labels(o) && fields(o))
    return {
      code: 200,
      body: {
        kind: `${resource.kind}List`,
        apiVersion: apiVersionOf(resource),
        metadata: { resourceVersion: String(this.store.revision) },
        // Items of built-in lists carry no kind/apiVersion on the wire; custom resources do.
        items: resource.builtin ? items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest) : items.map((item) => withType(resource, item)),
      },
      warnings: [],
    }
  }

  create(resource: Resource, namespace: string, body: Json, options: WriteOptions, operation: 'Apply' | 'Update' = 'Update'): Answer {
    const object = this.#incoming(resource, namespace, body)
    const name = String(metadataOf(object).name ?? '')
    if (name !== '' && this.store.get(resource, namespace, name) !== undefined) throw alreadyExists(resource, name)
    for (const field of [...SERVER_FIELDS, 'resourceVersion']) delete metadataOf(object)[field]
    // Status is the controllers' to write: a create starts without one.
    if (resource.hasStatus) delete object.status
    const checked = this.#validate(resource, object, null, options)
    // A new Deployment reads back with an empty status until its controller writes one.
    if (resource.kind === 'Deployment') checked.value.status = {}
    this.#manage(checked.value, resource, options, operation)
    const stored = this.store.create(resource, namespace, checked.value)
    return { code: 201, body: withType(resource, stored), warnings: checked.warnings }
  }

  update(resource: Resource, namespace: string, name: string, body: Json, options: WriteOptions, subresource: 'status' | null): Answer {
    const object = this.#incoming(resource, namespace, body)
    const bodyName = metadataOf(object).name
    if (bodyName !== name) throw badRequest(`the name of the object (${String(bodyName)}) does not match the name on the URL (${name})`)
    const current = this.store.get(resource, namespace, name)
    if (current === undefined) throw notFound(resource, name)
    const asked = metadataOf(object).resourceVersion
    if (asked === undefined || asked === '') {
      if (!resource.builtin) {
        throw invalid(resource, name, [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update', field: 'metadata.resourceVersion' }])
      }
    } else if (asked !== metadataOf(current).resourceVersion) throw conflict(resource, name)
    return this.#store(resource, namespace, current, object, options, subresource, 'Update')
  }

  patch(resource: Resource, namespace: string, name: string, contentType: string, raw: string, options: WriteOptions, subresource: 'status' | null): Answer {
    const type = PATCH_TYPES.find((t) => t === contentType)
    const accepted = resource.builtin ? [...PATCH_TYPES] : PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json')
    if (type === undefined || !accepted.includes(type)) throw unsupportedMediaType(accepted)
    if (type === 'application/apply-patch+yaml' && (options.fieldManager === null || options.fieldManager === '')) {
      throw new StatusError(422, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        reason: 'Invalid',
        details: { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] },
        code: 422,
      })
    }
    const patch = parsePatch(type, raw)
    const current = this.store.get(resource, namespace, name)
    if (current === undefined) {
      if (type !== 'application/apply-patch+yaml') throw notFound(resource, name)
      // Server-side apply creates what does not exist yet.
      if (!isObject(patch)) throw badRequest('the applied configuration must be an object')
      return this.create(resource, namespace, patch, options, 'Apply')
    }
    let patched: Json
    try {
      patched = applyType(type, resource, current, patch)
    } catch (error) {
      if (error instanceof TestFailed) {
        throw invalid(resource, name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(error.path)}: ${error.message}`, field: 'patch' }])
      }
      throw error
    }
    if (!isObject(patched)) throw badRequest('the patch does not leave an object')
    const patchedMeta = metadataOf(patched)
    if (patchedMeta.name !== name) throw badRequest(`the name of the object (${String(patchedMeta.name)}) does not match the name on the URL (${name})`)
    // A patch that names a resourceVersion is a precondition (optimistic concurrency).
    if (isObject(patch) && isObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string' && patch.metadata.resourceVersion !== metadataOf(current).resourceVersion) {
      throw conflict(resource, name)
    }
    return this.#store(resource, namespace, current, patched, options, subresource, type === 'application/apply-patch+yaml' ? 'Apply' : 'Update')
  }

  delete(resource: Resource, namespace: string, name: string, body: Json): Answer {
    const current = this.store.get(resource, namespace, name)
    if (current === undefined) throw notFound(resource, name)
    const preconditions = isObject(body) && isObject(body.preconditions) ? body.preconditions : {}
    const metadata = metadataOf(current)
    if (typeof preconditions.uid === 'string' && preconditions.uid !== metadata.uid) {
      throw new StatusError(409, { ...conflict(resource, name).body, message: `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(metadata.uid)}` })
    }
    if (typeof preconditions.resourceVersion === 'string' && preconditions.resourceVersion !== metadata.resourceVersion) {
      throw new StatusError(409, { ...conflict(resource, name).body, message: `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${String(metadata.resourceVersion)}` })
    }
    this.store.delete(resource, namespace, name)
    return { code: 200, body: deleteSuccess(resource, name, String(metadata.uid)), warnings: [] }
  }

  #store(resource: Resource, namespace: string, current: JsonObject, next: JsonObject, options: WriteOptions, subresource: 'status' | null, operation: 'Apply' | 'Update'): Answer {
    const merged: JsonObject = subresource === 'status' ? { ...current, status: next.status ?? null } : { ...next, ...(resource.hasStatus ? { status: current.status ?? null } : {}) }
    if (merged.status === null) delete merged.status
    const metadata = metadataOf(merged)
    const before = metadataOf(current)
    // Fields only the server sets keep their stored values whatever the client sent.
    for (const field of SERVER_FIELDS) {
      if (before[field] === undefined) delete metadata[field]
      else metadata[field] = before[field]
    }
    metadata.resourceVersion = before.resourceVersion ?? null
    const checked = this.#validate(resource, merged, current, options)
    this.#manage(checked.value, resource, options, operation)
    const stored = this.store.replace(resource, namespace, checked.value, current)
    return { code: 200, body: withType(resource, stored), warnings: checked.warnings }
  }

  #incoming(resource: Resource, namespace: string, body: Json): JsonObject {
    if (!isObject(body)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)?.slice(0, 200)}'`)
    const object = structuredClone(body)
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(resource)) {
      throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersionOf(resource)})`)
    }
    if (object.kind !== undefined && object.kind !== resource.kind) {
      throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${resource.kind})`)
    }
    const metadata = metadataOf(object)
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    object.apiVersion = apiVersionOf(resource)
    object.kind = resource.kind
    return object
  }

  #validate(resource: Resource, object: JsonObject, previous: JsonObject | null, options: WriteOptions): { value: JsonObject; warnings: string[] } {
    const name = String(metadataOf(object).name ?? '')
    const result = validateObject(resource, object, previous)
    if (result.typeErrors.length > 0 && resource.builtin) {
      const first = result.typeErrors[0]!
      throw badRequest(`${resource.kind} in version "${resource.version}" cannot be handled as a ${resource.kind}: json: cannot unmarshal ${first.message} (field ${first.field})`)
    }
    if (result.unknownFields.length > 0 && options.strict) {
      throw badRequest(`strict decoding error: ${result.unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`)
    }
    if (result.causes.length > 0) throw invalid(resource, name, result.causes)
    if (resource.builtin) applyBuiltinDefaults(resource, result.value, previous)
    return { value: result.value, warnings: result.unknownFields.map((f) => `unknown field "${f}"`) }
  }

  #manage(object: JsonObject, resource: Resource, options: WriteOptions, operation: 'Apply' | 'Update'): void {
    const metadata = metadataOf(object)
    const manager = options.fieldManager ?? options.userAgent.split('/')[0] ?? 'unknown'
    const entries = Array.isArray(metadata.managedFields) ? metadata.managedFields.filter((e) => !(isObject(e) && e.manager === manager && e.operation === operation)) : []
    entries.push({ manager, operation, apiVersion: apiVersionOf(resource), time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: {} })
    metadata.managedFields = entries
  }
}

function withType(resource: Resource, object: JsonObject): JsonObject {
  return { apiVersion: apiVersionOf(resource), kind: resource.kind, ...object }
}

function parsePatch(type: PatchType, raw: string): Json {
  try {
    return type === 'application/apply-patch+yaml' ? (parseYaml(raw) as Json) : (JSON.parse(raw) as Json)
  } catch (error) {
    throw badRequest(`error decoding patch: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function applyType(type: PatchType, resource: Resource, current: JsonObject, patch: Json): Json {
  switch (type) {
    case 'application/merge-patch+json':
      return mergePatch(current, patch)
    case 'application/strategic-merge-patch+json':
      return strategicMergePatch(resource, current, patch)
    case 'application/apply-patch+yaml':
      return applyPatch(resource, current, patch)
    case 'application/json-patch+json':
      return jsonPatch(current, patch)
  }
}
