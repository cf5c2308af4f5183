import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { buildGo } from './go.ts'

/**
 * Renders the Helm chart with test/support/helm-render (Go's text/template + sprig, the
 * engine Helm uses): helm itself is in no registry this machine reaches. Needs Debian's
 * golang-go, golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev (.ci/run installs them).
 */
export const CHART_DIR = fileURLToPath(new URL('../../deploy/helm/sentra', import.meta.url))
const RENDERER_SOURCE = fileURLToPath(new URL('./helm-render', import.meta.url))

export { goAvailable } from './go.ts'

let binary: string | undefined
function renderer(): string {
  if (binary) return binary
  const out = join(mkdtempSync(join(tmpdir(), 'sentra-helm-')), 'helm-render')
  buildGo({ cwd: RENDERER_SOURCE, target: '.', out })
  binary = out
  return out
}

/** A Kubernetes object as rendered: enough typing for the assertions. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [field: string]: unknown
}

export type RenderResult = { ok: true; objects: K8sObject[]; text: string } | { ok: false; error: string }

/** `helm template <release> deploy/helm/sentra -n <namespace> -f <values>` */
export function renderChart(values: object, { release = 'sentra', namespace = 'sentra' } = {}): RenderResult {
  const valuesFile = join(mkdtempSync(join(tmpdir(), 'sentra-values-')), 'values.json')
  writeFileSync(valuesFile, JSON.stringify(values))
  const run = spawnSync(renderer(), [CHART_DIR, release, namespace, valuesFile], { encoding: 'utf8' })
  if (run.status !== 0) return { ok: false, error: run.stderr.trim() }
  const objects = parseAllDocuments(run.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`)
      return doc.toJS() as K8sObject | null
    })
    .filter((o): o is K8sObject => o !== null)
  return { ok: true, objects, text: run.stdout }
}
