/**
 * Validation of objects the stand-in stores, as the API server does it:
 * - structurally against the OpenAPI v3 schema of the resource (kubernetes-openapi/): types,
 *   int32 ranges, required, enum, minimum/maximum, item counts, lengths, patterns; unknown
 *   fields are pruned (reported as warnings), or refused with `fieldValidation=Strict`;
 *   schema `default`s are applied for custom resources (built-ins are defaulted in code);
 * - then the few semantic rules of the Go validation that Sentra's writes can meet: object
 *   names, a Deployment's selector matching its template labels, containers with a name and
 *   an image, Service ports, an immutable Deployment selector.
 * Messages follow kube-openapi's `validate` and apimachinery's `field` package formats.
 */
import type { Resource, SchemaNode } from './kubernetes-resources.ts'
import type { StatusCause } from './kubernetes-status.ts'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export interface ValidationResult {
  /** The object pruned of unknown fields, with defaults applied. */
  value: JsonObject
  causes: StatusCause[]
  /** Type mismatches: a built-in answers them with 400 (the JSON decoder fails) rather than 422. */
  typeErrors: StatusCause[]
  unknownFields: string[]
}

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value)
}

class Walker {
  causes: StatusCause[] = []
  typeErrors: StatusCause[] = []
  unknownFields: string[] = []
  constructor(
    private readonly schemas: Record<string, SchemaNode>,
    private readonly applyDefaults: boolean,
  ) {}

  resolve(node: SchemaNode): SchemaNode {
    let current = node
    for (let depth = 0; depth < 8; depth++) {
      if (current.$ref !== undefined) {
        const target = this.schemas[current.$ref.split('/').at(-1) ?? '']
        if (target === undefined) throw new Error(`schema reference ${current.$ref} does not resolve`)
        current = { ...target, ...withoutRef(current) }
        continue
      }
      if (current.allOf !== undefined && current.allOf.length === 1 && current.type === undefined) {
        current = { ...this.resolve(current.allOf[0]!), ...withoutAllOf(current) }
        continue
      }
      return current
    }
    return current
  }

  walk(raw: SchemaNode, value: Json, path: string): Json {
    const node = this.resolve(raw)
    if (value === null) return value
    if (node['x-kubernetes-int-or-string']) {
      if (typeof value !== 'string' && !Number.isInteger(value)) this.typeError(path, value, 'integer or string')
      return value
    }
    switch (node.type) {
      case 'object':
        return this.object(node, value, path)
      case 'array':
        return this.array(node, value, path)
      case 'string':
        if (typeof value !== 'string') return this.typeError(path, value, 'string'), value
        this.string(node, value, path)
        return value
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) return this.typeError(path, value, 'integer'), value
        if (node.format === 'int32' && (value < INT32_MIN || value > INT32_MAX)) this.invalid(path, value, `${path} in body should be within int32 range`)
        this.number(node, value, path)
        return value
      case 'number':
        if (typeof value !== 'number') return this.typeError(path, value, 'number'), value
        this.number(node, value, path)
        return value
      case 'boolean':
        if (typeof value !== 'boolean') this.typeError(path, value, 'boolean')
        return value
      default:
        return value
    }
  }

  object(node: SchemaNode, value: Json, path: string): Json {
    if (!isObject(value)) return this.typeError(path, value, 'object'), value
    const out: JsonObject = {}
    const properties = node.properties ?? {}
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`
      const property = properties[key]
      if (property !== undefined) out[key] = this.walk(property, child, childPath)
      else if (isObject(node.additionalProperties)) out[key] = this.walk(node.additionalProperties, child, childPath)
      else if (node.additionalProperties === true || node['x-kubernetes-preserve-unknown-fields'] || (node.properties === undefined && node.additionalProperties === undefined)) out[key] = child
      else this.unknownFields.push(childPath)
    }
    if (this.applyDefaults) {
      for (const [key, property] of Object.entries(properties)) {
        const resolved = this.resolve(property)
        if (out[key] === undefined && resolved.default !== undefined) out[key] = structuredClone(resolved.default) as Json
      }
    }
    for (const key of node.required ?? []) {
      if (out[key] === undefined) this.causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: path === '' ? key : `${path}.${key}` })
    }
    return out
  }

  array(node: SchemaNode, value: Json, path: string): Json {
    if (!Array.isArray(value)) return this.typeError(path, value, 'array'), value
    if (node.maxItems !== undefined && value.length > node.maxItems) {
      this.causes.push({ reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${node.maxItems} items`, field: path })
    }
    if (node.minItems !== undefined && value.length < node.minItems) {
      this.invalid(path, value, `${path} in body should have at least ${node.minItems} items`)
    }
    const items = node.items
    return items === undefined ? value : value.map((item, index) => this.walk(items, item, `${path}[${index}]`))
  }

  string(node: SchemaNode, value: string, path: string): void {
    if (node.enum !== undefined && !node.enum.includes(value)) {
      this.causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${show(value)}: supported values: ${node.enum.map(show).join(', ')}`, field: path })
    }
    if (node.maxLength !== undefined && value.length > node.maxLength) {
      this.causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${node.maxLength} bytes`, field: path })
    }
    if (node.minLength !== undefined && value.length < node.minLength) this.invalid(path, value, `${path} in body should be at least ${node.minLength} chars long`)
    if (node.pattern !== undefined && !new RegExp(node.pattern, 'u').test(value)) this.invalid(path, value, `${path} in body should match '${node.pattern}'`)
  }

  number(node: SchemaNode, value: number, path: string): void {
    if (node.minimum !== undefined && value < node.minimum) this.invalid(path, value, `${path} in body should be greater than or equal to ${node.minimum}`)
    if (node.maximum !== undefined && value > node.maximum) this.invalid(path, value, `${path} in body should be less than or equal to ${node.maximum}`)
  }

  invalid(path: string, value: unknown, detail: string): void {
    this.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${detail}`, field: path })
  }

  typeError(path: string, value: unknown, type: string): void {
    const cause = { reason: 'FieldValueTypeInvalid', message: `Invalid value: ${show(value)}: ${path} in body must be of type ${type}: ${show(typeName(value))}`, field: path }
    this.causes.push(cause)
    this.typeErrors.push(cause)
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function withoutRef(node: SchemaNode): SchemaNode {
  const { $ref: _ref, ...rest } = node
  return rest
}

function withoutAllOf(node: SchemaNode): SchemaNode {
  const { allOf: _allOf, ...rest } = node
  return rest
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const LABEL_KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** apimachinery's messages for object names (validation.IsDNS1123Subdomain / IsDNS1035Label). */
export function nameProblem(resource: Resource, name: string): string | null {
  if (resource.nameRule === 'subdomain') {
    if (name.length > 253) return 'must be no more than 253 characters'
    if (!SUBDOMAIN.test(name)) {
      return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    }
    return null
  }
  if (name.length > 63) return 'must be no more than 63 characters'
  if (!LABEL_1035.test(name)) {
    return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
  }
  return null
}

function labelsProblems(labels: Json | undefined, path: string): StatusCause[] {
  if (!isObject(labels)) return []
  const causes: StatusCause[] = []
  for (const [key, value] of Object.entries(labels)) {
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : ''
    if (name.length > 63 || !LABEL_KEY_NAME.test(name) || (prefix !== '' && !SUBDOMAIN.test(prefix))) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: path })
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: `${path}` })
    }
  }
  return causes
}

/** The Go-coded checks beyond the schema for the object `value` (already structurally valid). */
function semanticProblems(resource: Resource, value: JsonObject, previous: JsonObject | null): StatusCause[] {
  const causes: StatusCause[] = []
  const metadata = isObject(value.metadata) ? value.metadata : {}
  causes.push(...labelsProblems(metadata.labels, 'metadata.labels'))
  const spec = isObject(value.spec) ? value.spec : null
  if (resource.kind === 'Deployment') {
    if (spec === null) return [...causes, { reason: 'FieldValueRequired', message: 'Required value', field: 'spec' }]
    const selector = isObject(spec.selector) ? spec.selector : null
    const template = isObject(spec.template) ? spec.template : {}
    const templateLabels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {}
    if (selector === null) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' })
    else {
      const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {}
      if (Object.keys(matchLabels).length === 0 && !Array.isArray(selector.matchExpressions)) {
        causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: {}: empty selector is invalid for deployment', field: 'spec.selector' })
      }
      if (Object.entries(matchLabels).some(([k, v]) => templateLabels[k] !== v)) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(templateLabels)}: \`selector\` does not match template \`labels\``, field: 'spec.template.metadata.labels' })
      }
      const before = previous !== null && isObject(previous.spec) ? previous.spec.selector : undefined
      if (before !== undefined && JSON.stringify(before) !== JSON.stringify(selector)) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(selector)}: field is immutable`, field: 'spec.selector' })
      }
    }
    causes.push(...labelsProblems(templateLabels, 'spec.template.metadata.labels'))
    const podSpec = isObject(template.spec) ? template.spec : {}
    const containers = Array.isArray(podSpec.containers) ? podSpec.containers : []
    if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers' })
    containers.forEach((container, index) => {
      const c = isObject(container) ? container : {}
      if (typeof c.image !== 'string' || c.image.trim() === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `spec.template.spec.containers[${index}].image` })
    })
    if (typeof spec.replicas === 'number' && spec.replicas < 0) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`, field: 'spec.replicas' })
    }
  }
  if (resource.kind === 'Service' && spec !== null) {
    const ports = Array.isArray(spec.ports) ? spec.ports : []
    if (ports.length === 0 && spec.clusterIP !== 'None' && spec.type !== 'ExternalName') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' })
    ports.forEach((port, index) => {
      const p = isObject(port) ? port : {}
      if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(p.port)}: must be between 1 and 65535, inclusive`, field: `spec.ports[${index}].port` })
      }
    })
    causes.push(...labelsProblems(spec.selector, 'spec.selector'))
  }
  return causes
}

/** Validates `value` as a `resource` object (`previous`: the stored one on update). */
export function validateObject(resource: Resource, value: Json, previous: JsonObject | null): ValidationResult {
  const walker = new Walker(resource.openapi.schemas, !resource.builtin)
  const root = resource.openapi.schemas[resource.openapi.root]
  if (root === undefined) throw new Error(`no schema ${resource.openapi.root}`)
  const walked = walker.walk(root, value, '')
  const object = isObject(walked) ? walked : {}
  const causes = [...walker.causes]
  const metadata = isObject(object.metadata) ? object.metadata : {}
  const name = typeof metadata.name === 'string' ? metadata.name : ''
  if (name === '') causes.push({ reason: 'FieldValueRequired', message: 'name or generateName is required', field: 'metadata.name' })
  else {
    const problem = nameProblem(resource, name)
    if (problem !== null) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(name)}: ${problem}`, field: 'metadata.name' })
  }
  if (walker.typeErrors.length === 0) causes.push(...semanticProblems(resource, object, previous))
  return { value: object, causes, typeErrors: walker.typeErrors, unknownFields: walker.unknownFields }
}
