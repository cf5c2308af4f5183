import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Sentra's provisioned Grafana dashboard (deploy/grafana), as the tests read it. */
export const GRAFANA_DIR = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url))

export interface DashboardTarget {
  refId: string
  datasource: { type: string; uid: string }
  expr?: string
  type?: string
  url?: string
  url_options?: { method: string; body_type: string; body_content_type: string; body_graphql_query: string; body_graphql_variables: string }
  root_selector?: string
  columns?: { selector: string; text: string; type: string }[]
}
export interface DashboardPanel {
  id: number
  title: string
  type: string
  datasource: { type: string; uid: string }
  gridPos: { x: number; y: number; w: number; h: number }
  targets: DashboardTarget[]
}
export interface Dashboard {
  uid: string
  title: string
  panels: DashboardPanel[]
  templating: { list: { name: string; query: { query: string } }[] }
  annotations: { list: { expr: string; datasource: { uid: string } }[] }
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(`${GRAFANA_DIR}dashboards/sentra-rollouts.json`, 'utf8')) as Dashboard
}

/** Every PromQL expression of the dashboard (panels and annotations), with Grafana's variables filled as Grafana would. */
export function prometheusExpressions(dashboard: Dashboard = loadDashboard()): { title: string; expr: string }[] {
  const fill = (expr: string) => expr.replaceAll('$application', '.*').replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h')
  return [
    ...dashboard.panels.flatMap((p) => p.targets.filter((t) => t.expr !== undefined).map((t) => ({ title: `${p.title} (${t.refId})`, expr: fill(t.expr!) }))),
    ...dashboard.annotations.list.map((a) => ({ title: 'annotation', expr: fill(a.expr) })),
  ]
}

/** The GraphQL documents the dashboard's Infinity panels POST to Sentra. */
export function graphQueries(dashboard: Dashboard = loadDashboard()): { title: string; target: DashboardTarget }[] {
  return dashboard.panels.flatMap((p) => p.targets.filter((t) => t.type === 'graphql').map((target) => ({ title: p.title, target })))
}
