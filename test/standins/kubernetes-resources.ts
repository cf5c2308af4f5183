/**
 * The resources the Kubernetes stand-in serves, with what differs between them: group and
 * version, the schema each object is validated against, how names are checked, whether
 * strategic merge patch applies (built-ins only; custom resources get 415) and whether an
 * update may omit metadata.resourceVersion (custom resources may not).
 */
import { readFileSync } from 'node:fs'

export interface OpenApiSchemas {
  root: string
  schemas: Record<string, SchemaNode>
}

/** One OpenAPI v3 schema node, as much of it as the validator reads. */
export interface SchemaNode {
  $ref?: string
  allOf?: SchemaNode[]
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  format?: string
  properties?: Record<string, SchemaNode>
  additionalProperties?: SchemaNode | boolean
  items?: SchemaNode
  required?: string[]
  enum?: unknown[]
  default?: unknown
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  'x-kubernetes-int-or-string'?: boolean
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-patch-merge-key'?: string
  'x-kubernetes-patch-strategy'?: string
  'x-kubernetes-list-type'?: string
  'x-kubernetes-list-map-keys'?: string[]
}

export type NameRule = 'subdomain' | 'label-1035'

export interface Resource {
  group: string
  version: string
  kind: string
  plural: string
  singular: string
  shortNames: string[]
  /** Built-in types take strategic merge patch and allow unconditional updates. */
  builtin: boolean
  nameRule: NameRule
  openapi: OpenApiSchemas
  /** The Deployment's status is written by the stand-in's own controller, never by clients. */
  hasStatus: boolean
}

function load(file: string): OpenApiSchemas {
  return JSON.parse(readFileSync(new URL(`./kubernetes-openapi/${file}`, import.meta.url), 'utf8')) as OpenApiSchemas
}

export const RESOURCES: readonly Resource[] = [
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'], builtin: true, nameRule: 'subdomain', openapi: load('deployment.json'), hasStatus: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', shortNames: ['svc'], builtin: true, nameRule: 'label-1035', openapi: load('service.json'), hasStatus: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute', shortNames: [], builtin: false, nameRule: 'subdomain', openapi: load('httproute.json'), hasStatus: true },
]

export function apiVersionOf(resource: Resource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`
}

/** The collection path prefix: `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(resource: Resource): string {
  return resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`
}
