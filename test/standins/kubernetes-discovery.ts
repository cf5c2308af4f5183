/**
 * Discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`, `/version`)
 * in the shapes of kubernetes/kubernetes `api/discovery/*.json`, listing only what the
 * stand-in serves. kubectl asks for aggregated discovery first and falls back to these when
 * the answer is a plain APIGroupList, as with servers older than 1.26.
 */
import { RESOURCES, apiVersionOf, type Resource } from './kubernetes-resources.ts'
import type { Json } from './kubernetes-validate.ts'

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

function resourceList(resources: readonly Resource[], groupVersion: string): Json {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: true,
        kind: r.kind,
        verbs: VERBS,
        ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
        ...(r.group === 'apps' || r.group === '' ? { categories: ['all'] } : {}),
      },
      { name: `${r.plural}/status`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get', 'patch', 'update'] },
    ]),
  }
}

function group(name: string, version: string): Json {
  const gv = { groupVersion: `${name}/${version}`, version }
  return { name, versions: [gv], preferredVersion: gv }
}

/** The discovery body for `path`, or undefined when `path` is not a discovery path. */
export function discovery(path: string): Json | undefined {
  if (path === '/version') {
    return { major: '1', minor: '35', gitVersion: 'v1.35.0-sentra-standin', gitCommit: '', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.25', compiler: 'gc', platform: 'linux/amd64' }
  }
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] }
  if (path === '/api/v1') return resourceList(RESOURCES.filter((r) => r.group === ''), 'v1')
  const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => `${r.group}/${r.version}`))]
  if (path === '/apis') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((gv) => group(gv.split('/')[0]!, gv.split('/')[1]!)) }
  }
  for (const gv of groups) {
    const [name, version] = gv.split('/') as [string, string]
    if (path === `/apis/${name}`) return { kind: 'APIGroup', apiVersion: 'v1', ...(group(name, version) as object) }
    if (path === `/apis/${gv}`) return resourceList(RESOURCES.filter((r) => apiVersionOf(r) === gv), gv)
  }
  return undefined
}
