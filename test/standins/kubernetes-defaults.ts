/**
 * The defaults the API server fills in for built-in types (pkg/apis/apps/v1/defaults.go,
 * pkg/apis/core/v1/defaults.go), so what a client reads back looks like what a cluster
 * returns. Custom resources get their schema's `default`s in kubernetes-validate.ts instead.
 */
import type { Resource } from './kubernetes-resources.ts'
import { isObject, type JsonObject } from './kubernetes-validate.ts'

function fill(target: JsonObject, defaults: JsonObject): void {
  for (const [key, value] of Object.entries(defaults)) {
    if (target[key] === undefined) target[key] = structuredClone(value)
  }
}

function child(target: JsonObject, key: string): JsonObject {
  if (!isObject(target[key])) target[key] = {}
  return target[key] as JsonObject
}

function defaultDeployment(object: JsonObject): void {
  const spec = child(object, 'spec')
  fill(spec, { replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 })
  const strategy = child(spec, 'strategy')
  fill(strategy, { type: 'RollingUpdate' })
  if (strategy.type === 'RollingUpdate') fill(child(strategy, 'rollingUpdate'), { maxUnavailable: '25%', maxSurge: '25%' })
  const template = child(spec, 'template')
  const podSpec = child(template, 'spec')
  fill(podSpec, { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler' })
  for (const container of Array.isArray(podSpec.containers) ? podSpec.containers : []) {
    if (!isObject(container)) continue
    const image = typeof container.image === 'string' ? container.image : ''
    const tag = /:([^:/@]+)$/.exec(image)?.[1]
    fill(container, {
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: image.includes('@') || (tag !== undefined && tag !== 'latest') ? 'IfNotPresent' : 'Always',
    })
    for (const port of Array.isArray(container.ports) ? container.ports : []) if (isObject(port)) fill(port, { protocol: 'TCP' })
  }
}

let nextClusterIp = 1

function defaultService(object: JsonObject, previous: JsonObject | null): void {
  const spec = child(object, 'spec')
  const before = previous !== null && isObject(previous.spec) ? previous.spec : {}
  // An update that leaves the allocated address out keeps it (the API server does the same).
  if (spec.clusterIP === undefined && before.clusterIP !== undefined) spec.clusterIP = before.clusterIP
  if (spec.clusterIPs === undefined && before.clusterIPs !== undefined) spec.clusterIPs = before.clusterIPs
  fill(spec, { type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' })
  if (spec.clusterIP === undefined) {
    // Data only: the stand-in routes nothing, the address is what a cluster would show.
    const n = nextClusterIp++
    spec.clusterIP = `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`
  }
  fill(spec, { clusterIPs: [spec.clusterIP] })
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    if (isObject(port)) fill(port, { protocol: 'TCP', targetPort: port.port ?? null })
  }
  fill(object, { status: { loadBalancer: {} } })
}

export function applyBuiltinDefaults(resource: Resource, object: JsonObject, previous: JsonObject | null): void {
  if (resource.kind === 'Deployment') defaultDeployment(object)
  if (resource.kind === 'Service') defaultService(object, previous)
}
