import { readFileSync } from 'node:fs'
import { buildSchema, parse, validate } from 'graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ControllerMetrics } from '../../controller/metrics.ts'
import { ServerMetrics } from '../../server/metrics.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { GRAFANA_DIR, graphQueries, loadDashboard, prometheusExpressions } from '../support/grafana.ts'
import { quickSpec } from '../support/rollouts.ts'

/**
 * deploy/grafana: the provisioned data sources and Sentra's dashboard. No Grafana runs here;
 * the PromQL is run by a real Prometheus in test/controller/controller-metrics.test.ts, and
 * the Infinity panels' GraphQL is run here against a real Sentra server.
 */
const dashboard = loadDashboard()
const datasources = (parseYaml(readFileSync(`${GRAFANA_DIR}provisioning/datasources/sentra.yaml`, 'utf8')) as { datasources: { uid: string; type: string; url: string }[] }).datasources

describe('deploy/grafana', () => {
  it('provisions Prometheus, Loki, Tempo and the graph through Infinity, and the dashboard folder', () => {
    expect(datasources.map((d) => `${d.type}:${d.uid}`).sort()).toEqual(['loki:loki', 'prometheus:prometheus', 'tempo:tempo', 'yesoreyeram-infinity-datasource:sentra-graph'])
    const providers = parseYaml(readFileSync(`${GRAFANA_DIR}provisioning/dashboards/sentra.yaml`, 'utf8')) as { providers: { type: string; options: { path: string } }[] }
    expect(providers.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards/sentra' } })
  })

  it('has panels with unique ids, on the 24-column grid, without overlaps, each on a provisioned data source', () => {
    const uids = new Set(datasources.map((d) => d.uid))
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length)
    const cells = new Set<string>()
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false)
          cells.add(`${x},${y}`)
        }
      }
      expect(uids.has(p.datasource.uid), p.title).toBe(true)
      for (const t of p.targets) expect(uids.has(t.datasource.uid), `${p.title} ${t.refId}`).toBe(true)
    }
  })

  it('asks only for metrics Sentra exposes, with no rollout-id labels', () => {
    const exposed = new Set<string>()
    for (const registry of [new ControllerMetrics().registry, new ServerMetrics().registry]) {
      for (const metric of registry.getMetricsAsArray()) {
        const m = metric as unknown as { name: string; constructor: { name: string } }
        exposed.add(m.name)
        if (m.constructor.name === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(`${m.name}${suffix}`)
      }
    }
    const expressions = prometheusExpressions(dashboard)
    expect(expressions.length).toBeGreaterThan(10)
    for (const { title, expr } of expressions) {
      const names = expr.match(/\bsentra_[a-z_]+\b/g) ?? []
      expect(names.length, title).toBeGreaterThan(0)
      for (const name of names) expect(exposed.has(name), `${title}: ${name}`).toBe(true)
      expect(expr, title).not.toMatch(/rollout_id|rollout=/)
    }
    expect(dashboard.templating.list[0]?.query.query).toBe('label_values(sentra_decisions_total, application)')
  })

  it('sends GraphQL documents that are valid against the printed schema', () => {
    const schema = buildSchema(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'))
    const queries = graphQueries(dashboard)
    expect(queries.length).toBeGreaterThanOrEqual(2)
    for (const { title, target } of queries) {
      expect(target.url_options?.method, title).toBe('POST')
      expect(target.url, title).toBe('/graphql')
      expect(validate(schema, parse(target.url_options!.body_graphql_query)), title).toEqual([])
    }
  })

  describe('against a real Sentra server with a read-only token', () => {
    let api: TestApi
    beforeAll(async () => {
      api = await startTestApi('sqlite')
      const applied = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: quickSpec('graphed', 18_999) })
      expect(applied.errors).toBeUndefined()
      const started = await api.gql(`mutation { startRollout(application: "graphed", version: "v1") { id } }`, {}, api.tokens.operate)
      expect(started.errors).toBeUndefined()
    })
    afterAll(async () => api?.close())

    it.each(graphQueries(dashboard).map((q) => [q.title, q.target] as const))('answers "%s" with rows at the panel\'s root selector', async (_title, target) => {
      // The request Infinity makes: POST {query, variables} as JSON with the bearer header of the data source.
      const response = await fetch(`${api.url}${target.url}`, {
        method: 'POST',
        headers: { 'content-type': target.url_options!.body_content_type, authorization: `Bearer ${api.tokens.read}` },
        body: JSON.stringify({ query: target.url_options!.body_graphql_query, variables: JSON.parse(target.url_options!.body_graphql_variables) as unknown }),
      })
      expect(response.status).toBe(200)
      const body = (await response.json()) as Record<string, unknown> & { errors?: unknown }
      expect(body.errors).toBeUndefined()
      const rows = target.root_selector!.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], body)
      expect(Array.isArray(rows)).toBe(true)
      const first = (rows as unknown[])[0]
      expect(first).toBeDefined()
      for (const column of target.columns ?? []) {
        const value = column.selector.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], first)
        if (column.selector.startsWith('node.lastDecision') || column.selector === 'node.finishedAt' || column.selector === 'node.fromVersion') continue
        expect(value, column.selector).not.toBeUndefined()
      }
    })
  })
})
