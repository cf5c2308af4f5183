/**
 * Kubernetes `Status` bodies, in the wire order and with the messages of
 * kubernetes/apimachinery `pkg/api/errors/errors.go` and kubernetes/apiserver
 * `pkg/registry/generic/registry/store.go` (release 1.35). See
 * /work/shared/upstream/kubernetes/examples for the shapes these reproduce.
 */
import type { Resource } from './kubernetes-resources.ts'

export interface StatusCause {
  reason: string
  message: string
  field: string
}

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, string>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number }
  code?: number
}

/** An error the HTTP layer turns into a Status response with this code. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly body: StatusBody,
  ) {
    super(body.message ?? body.reason ?? String(code))
  }
}

/** `deployments.apps`, `services` (the core group has no suffix). */
export function qualified(resource: Resource): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`
}

function details(resource: Resource, name: string, kind: string = resource.plural): NonNullable<StatusBody['details']> {
  return resource.group === '' ? { name, kind } : { name, group: resource.group, kind }
}

function failure(code: number, reason: string, message: string, detail?: StatusBody['details']): StatusError {
  return new StatusError(code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(detail !== undefined ? { details: detail } : {}),
    code,
  })
}

export function notFound(resource: Resource, name: string): StatusError {
  return failure(404, 'NotFound', `${qualified(resource)} "${name}" not found`, details(resource, name))
}

export function alreadyExists(resource: Resource, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, details(resource, name))
}

export function conflict(resource: Resource, name: string): StatusError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(resource, name),
  )
}

/** 422: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...` (several causes are bracketed). */
export function invalid(resource: Resource, name: string, causes: StatusCause[]): StatusError {
  const kind = resource.group === '' ? resource.kind : `${resource.kind}.${resource.group}`
  const parts = causes.map((c) => `${c.field}: ${c.message}`)
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, { ...details(resource, name, resource.kind), causes })
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message)
}

export function methodNotAllowed(message: string): StatusError {
  return failure(405, 'MethodNotAllowed', message)
}

export function unsupportedMediaType(accepted: string[]): StatusError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`)
}

export function pathNotFound(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {})
}

/** In-band watch error (the HTTP status stays 200): `too old resource version: <asked> (<oldest>)`. */
export function expired(asked: string, oldest: number): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${asked} (${oldest})`, reason: 'Expired', code: 410 }
}

export function internalError(message: string): StatusError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message, field: '' }] })
}

/** DELETE's answer when the object is gone at once (no finalizers). */
export function deleteSuccess(resource: Resource, name: string, uid: string): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details(resource, name), uid } }
}
