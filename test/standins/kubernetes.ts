/**
 * A Kubernetes API server stand-in (1.35 conventions), in process on 127.0.0.1, for tests:
 * no API server can run on this machine. It serves what Sentra's Kubernetes target uses,
 * built from the upstream OpenAPI documents, discovery bodies, Status examples and notes in
 * /work/shared/upstream/kubernetes and the Gateway API v1.6.1 HTTPRoute CRD:
 *
 * - apps/v1 Deployments, v1 Services, gateway.networking.k8s.io/v1 HTTPRoutes, namespaced
 *   (`/apis/apps/v1/namespaces/<ns>/deployments[/<name>[/status]]`, ...) and all-namespace
 *   lists; GET, LIST (labelSelector, fieldSelector), POST, PUT, PATCH (json-patch,
 *   merge-patch, strategic-merge-patch for built-ins, apply-patch+yaml with fieldManager),
 *   DELETE (with preconditions), WATCH (`?watch=1`: JSON lines, resume from a
 *   resourceVersion, 410 Expired in-band, sendInitialEvents + bookmark);
 * - errors as `Status` objects: 404 NotFound, 409 AlreadyExists / Conflict (stale
 *   resourceVersion), 422 Invalid (OpenAPI schema and Go validation rules, kubernetes-validate.ts),
 *   400, 415;
 * - discovery (`/api`, `/apis`, ...) for kubectl;
 * - a Deployment controller (kubernetes-deployments.ts) that makes status ready after
 *   `readyDelayMs`, or never for versions marked with {@link KubernetesStandIn.failVersion}.
 *
 * Not modelled: namespaces as objects (every namespace exists), authentication, pods and
 * ReplicaSets, field ownership conflicts of server-side apply, Table output, protobuf.
 * For tests of bad input: {@link KubernetesStandIn.injectFault}. API calls are counted
 * ({@link KubernetesStandIn.calls}) so benchmarks can report calls per step.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { KubernetesApi, type Answer, type WriteOptions } from './kubernetes-api.ts'
import { DeploymentController } from './kubernetes-deployments.ts'
import { discovery } from './kubernetes-discovery.ts'
import { apiVersionOf, RESOURCES, type Resource } from './kubernetes-resources.ts'
import { parseFieldSelector, parseLabelSelector } from './kubernetes-selectors.ts'
import { badRequest, conflict, expired, internalError, methodNotAllowed, pathNotFound, StatusError, type StatusBody } from './kubernetes-status.ts'
import { ObjectStore, type StoredEvent } from './kubernetes-store.ts'
import type { Json, JsonObject } from './kubernetes-validate.ts'

export interface KubernetesStandInOptions {
  /** From a Deployment spec change to its status being ready. Default 50 ms. */
  readyDelayMs?: number
  /** From a failing version's rollout to ProgressDeadlineExceeded; default the spec's progressDeadlineSeconds. */
  progressDeadlineMs?: number
}

/** The API verb a request maps to, as in audit logs. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'discovery'

export interface RecordedCall {
  verb: Verb
  method: string
  path: string
  resource: string | null
  contentType: string | null
  fieldManager: string | null
}

/** What an injected fault does to matching requests. */
export type FaultKind = 'status500' | 'garbage' | 'hang' | 'reset' | 'conflict'

export interface Fault {
  kind: FaultKind
  /** Only requests of this verb (default: any). */
  verb?: Verb
  /** Only paths containing this text (default: any). */
  pathIncludes?: string
  /** How many requests it hits; default unlimited until cleared. */
  times?: number
}

/** 3 MiB: the API server's request body limit. */
const MAX_BODY = 3 * 1024 * 1024

interface Route {
  resource: Resource
  namespace: string | null
  name: string | null
  subresource: 'status' | null
}

export class KubernetesStandIn {
  readonly store = new ObjectStore()
  readonly #api = new KubernetesApi(this.store)
  readonly #deployments: DeploymentController
  #server: Server
  #sockets = new Set<Socket>()
  #calls: RecordedCall[] = []
  #faults: (Fault & { left: number })[] = []
  #url = ''

  private constructor(options: KubernetesStandInOptions) {
    const deployments = RESOURCES.find((r) => r.kind === 'Deployment')!
    this.#deployments = new DeploymentController(this.store, deployments, {
      readyDelayMs: options.readyDelayMs ?? 50,
      ...(options.progressDeadlineMs !== undefined ? { progressDeadlineMs: options.progressDeadlineMs } : {}),
    })
    this.store.onChange = (event) => this.#deployments.observe(event)
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.#status(res, internalError(error instanceof Error ? error.message : String(error)).body, 500)
        else res.destroy()
      })
    })
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  static async start(options: KubernetesStandInOptions = {}): Promise<KubernetesStandIn> {
    const standIn = new KubernetesStandIn(options)
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', resolve))
    standIn.#url = `http://127.0.0.1:${(standIn.#server.address() as AddressInfo).port}`
    return standIn
  }

  get url(): string {
    return this.#url
  }

  /** A kubeconfig (YAML) whose current context talks to this stand-in without credentials. */
  kubeconfig(namespace = 'default'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: standin',
      '  cluster:',
      `    server: ${this.#url}`,
      // Plain HTTP on loopback: @kubernetes/client-node refuses http:// unless this is set.
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: standin',
      '  user: {}',
      'contexts:',
      '- name: standin',
      '  context:',
      '    cluster: standin',
      '    user: standin',
      `    namespace: ${namespace}`,
      'current-context: standin',
      '',
    ].join('\n')
  }

  /** Deployments whose template has this image tag or sentra.dev/version label never become ready. */
  failVersion(version: string): void {
    this.#deployments.failing.add(version)
  }

  injectFault(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? Number.POSITIVE_INFINITY })
  }

  clearFaults(): void {
    this.#faults = []
  }

  calls(): readonly RecordedCall[] {
    return this.#calls
  }

  resetCalls(): void {
    this.#calls = []
  }

  /** The stored object (with kind and apiVersion), or undefined. */
  object(kind: 'Deployment' | 'Service' | 'HTTPRoute', namespace: string, name: string): JsonObject | undefined {
    const resource = RESOURCES.find((r) => r.kind === kind)!
    const found = this.store.get(resource, namespace, name)
    return found === undefined ? undefined : { apiVersion: apiVersionOf(resource), kind, ...found }
  }

  /** Stores an object as a cluster administrator would (`kubectl apply`), validated like any create. */
  seed(object: JsonObject): JsonObject {
    const resource = RESOURCES.find((r) => r.kind === object.kind)
    if (resource === undefined) throw new Error(`the stand-in does not serve kind ${String(object.kind)}`)
    const metadata = (object.metadata ?? {}) as JsonObject
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default'
    return this.#api.create(resource, namespace, object, { fieldManager: 'kubectl', strict: true, force: false, userAgent: 'kubectl' }).body as JsonObject
  }

  async close(): Promise<void> {
    this.#deployments.close()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin')
    const method = req.method ?? 'GET'
    const route = parseRoute(url.pathname)
    const watching = method === 'GET' && route !== null && route.name === null && /^(1|true)$/.test(url.searchParams.get('watch') ?? '')
    const verb = verbOf(method, route, watching)
    this.#calls.push({
      verb,
      method,
      path: url.pathname,
      resource: route?.resource.plural ?? null,
      contentType: req.headers['content-type']?.split(';')[0]?.trim() ?? null,
      fieldManager: url.searchParams.get('fieldManager'),
    })
    const fault = this.#faults.find((f) => f.left > 0 && (f.verb === undefined || f.verb === verb) && (f.pathIncludes === undefined || url.pathname.includes(f.pathIncludes)))
    if (fault !== undefined) {
      fault.left--
      if (fault.kind !== 'conflict') return this.#fault(fault.kind, res, req)
    }
    let raw: string
    try {
      raw = await readBody(req)
    } catch (error) {
      if (error instanceof StatusError) return this.#status(res, error.body, error.code)
      throw error
    }
    try {
      if (route === null) {
        const body = method === 'GET' ? discovery(url.pathname) : undefined
        if (body === undefined) throw pathNotFound()
        return this.#json(res, 200, body, [])
      }
      if (fault?.kind === 'conflict' && route.name !== null) {
        throw conflict(route.resource, route.name)
      }
      if (watching) return this.#watch(route, url, req, res)
      this.#json(res, ...spread(this.#dispatch(method, route, url, req, raw)))
    } catch (error) {
      if (error instanceof StatusError) return this.#status(res, error.body, error.code)
      throw error
    }
  }

  #dispatch(method: string, route: Route, url: URL, req: IncomingMessage, raw: string): Answer {
    const { resource, namespace, name, subresource } = route
    const options: WriteOptions = {
      fieldManager: url.searchParams.get('fieldManager'),
      strict: url.searchParams.get('fieldValidation') === 'Strict',
      force: url.searchParams.get('force') === 'true',
      userAgent: req.headers['user-agent'] ?? 'unknown',
    }
    if (name === null) {
      if (method === 'GET') return this.#api.list(resource, namespace, url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
      if (method === 'POST' && namespace !== null) return this.#api.create(resource, namespace, parseJson(raw), options)
      throw methodNotAllowed(`the server does not allow this method on the requested resource`)
    }
    if (namespace === null) throw pathNotFound()
    switch (method) {
      case 'GET':
        return this.#api.get(resource, namespace, name)
      case 'PUT':
        return this.#api.update(resource, namespace, name, parseJson(raw), options, subresource)
      case 'PATCH':
        return this.#api.patch(resource, namespace, name, req.headers['content-type']?.split(';')[0]?.trim() ?? '', raw, options, subresource)
      case 'DELETE':
        if (subresource !== null) throw methodNotAllowed('the server does not allow this method on the requested resource')
        return this.#api.delete(resource, namespace, name, raw.trim() === '' ? null : parseJson(raw))
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource')
    }
  }

  #watch(route: Route, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'))
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'))
    const matches = (o: JsonObject): boolean => labels(o) && fields(o)
    const asked = url.searchParams.get('resourceVersion') ?? ''
    const initialEvents = url.searchParams.get('sendInitialEvents') === 'true'
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true'
    if (asked !== '' && asked !== '0' && !/^\d+$/.test(asked)) throw badRequest(`invalid resource version: ${JSON.stringify(asked)}`)
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    const send = (type: string, object: Json): void => {
      res.write(`${JSON.stringify({ type, object })}\n`)
    }
    const resource = route.resource
    const typed = (object: JsonObject): JsonObject => ({ apiVersion: apiVersionOf(resource), kind: resource.kind, ...object })
    const stop = this.store.watch({ resource, namespace: route.namespace, matches, send: (event: StoredEvent) => send(event.type, typed(event.object)) })
    const end = (): void => {
      stop()
      clearTimeout(timer)
      if (!res.writableEnded) res.end()
    }
    const seconds = Number(url.searchParams.get('timeoutSeconds') ?? '')
    const timer = setTimeout(end, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30 * 60 * 1000)
    timer.unref()
    req.on('close', end)
    if (asked === '' || asked === '0' || initialEvents) {
      for (const object of this.store.list(resource, route.namespace, matches)) send('ADDED', typed(object))
      if (initialEvents && bookmarks) {
        send('BOOKMARK', { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(this.store.revision), annotations: { 'k8s.io/initial-events-end': 'true' } } })
      }
      return
    }
    const from = Number(asked)
    if (from < this.store.oldestResumable - 1) {
      send('ERROR', expired(asked, this.store.oldestResumable) as unknown as Json)
      end()
      return
    }
    for (const event of this.store.eventsAfter(from)) {
      if (event.resource === resource && (route.namespace === null || (event.object.metadata as JsonObject).namespace === route.namespace) && matches(event.object)) send(event.type, typed(event.object))
    }
  }

  #fault(kind: Exclude<FaultKind, 'conflict'>, res: ServerResponse, req: IncomingMessage): void {
    switch (kind) {
      case 'status500':
        return this.#status(res, internalError('injected fault').body, 500)
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end('<html><body>502 Bad Gateway</body></html>')
        return
      case 'hang':
        // Never answered; the socket is destroyed by close().
        req.resume()
        return
      case 'reset':
        req.socket.destroy()
        return
    }
  }

  #json(res: ServerResponse, code: number, body: Json | StatusBody, warnings: string[]): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' }
    if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ')
    res.writeHead(code, headers)
    res.end(JSON.stringify(body))
  }

  #status(res: ServerResponse, body: StatusBody, code: number): void {
    this.#json(res, code, body, [])
  }
}

function spread(answer: Answer): [number, Json | StatusBody, string[]] {
  return [answer.code, answer.body, answer.warnings]
}

function verbOf(method: string, route: Route | null, watching: boolean): Verb {
  if (route === null) return 'discovery'
  if (watching) return 'watch'
  switch (method) {
    case 'GET':
      return route.name === null ? 'list' : 'get'
    case 'POST':
      return 'create'
    case 'PUT':
      return 'update'
    case 'PATCH':
      return 'patch'
    default:
      return 'delete'
  }
}

/** `/api/v1/namespaces/<ns>/services/<name>/status`, `/apis/<g>/<v>/<plural>`... or null. */
function parseRoute(path: string): Route | null {
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p))
  let rest: string[]
  let group: string
  let version: string
  if (parts[0] === 'api' && parts.length >= 3) {
    group = ''
    version = parts[1]!
    rest = parts.slice(2)
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!
    version = parts[2]!
    rest = parts.slice(3)
  } else return null
  let namespace: string | null = null
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]!
    rest = rest.slice(2)
  }
  const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === rest[0])
  if (resource === undefined || rest.length > 3) return null
  const subresource = rest[2]
  if (subresource !== undefined && subresource !== 'status') return null
  return { resource, namespace, name: rest[1] ?? null, subresource: subresource === 'status' ? 'status' : null }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new StatusError(413, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Request entity too large: limit is ${MAX_BODY}`, reason: 'RequestEntityTooLarge', code: 413 })
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(raw: string): Json {
  try {
    return JSON.parse(raw) as Json
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${error instanceof Error ? error.message : String(error)}`)
  }
}
