import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { ApplicationRollouts, Rollout, RolloutStatus } from '../src/api/types'
import { ROLLOUT_STATUSES } from '../src/api/types'
import { RolloutsCardView, type RolloutsCardViewProps } from '../src/components/RolloutsCardView'

/** The view is pure: these check its HTML for data a real server would not easily produce. */
const NOW = Date.parse('2026-11-27T10:00:00Z')

function rollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    id: 'Um9sbG91dDo0Mg==',
    status: 'PROGRESSING',
    canaryWeight: 35,
    fromVersion: 'v1',
    toVersion: 'v2',
    createdAt: '2026-11-27T09:55:00Z',
    startedAt: '2026-11-27T09:55:00Z',
    finishedAt: null,
    currentStepIndex: 1,
    steps: [
      { index: 0, kind: 'SET_WEIGHT', status: 'COMPLETED', setWeight: 35 },
      { index: 1, kind: 'ANALYZE', status: 'RUNNING', setWeight: null },
    ],
    lastDecision: { action: 'ADVANCE', reason: 'errors PASS', at: '2026-11-27T09:56:00Z', actor: 'controller' },
    ...overrides,
  }
}

function html(data: ApplicationRollouts, props: Partial<RolloutsCardViewProps> = {}): string {
  return renderToStaticMarkup(
    <RolloutsCardView entityName="checkout-service" target={{ kind: 'ok', application: data.name }} state={{ status: 'loaded', data }} dashboardUrl="https://sentra.example.com" now={NOW} {...props} />,
  )
}

describe('the card view', () => {
  it('a canary under analysis: weight bar, step, running duration, link with the id URL-encoded', () => {
    const active = rollout()
    const markup = html({ name: 'checkout', stableVersion: 'v1', active, recent: [active] })
    expect(markup).toContain('aria-valuenow="35"')
    expect(markup).toContain('width:35%')
    expect(markup).toContain('Step 2 of 2: analysing live telemetry')
    expect(markup).toContain('for 5m 00s')
    expect(markup).toContain('href="https://sentra.example.com/rollouts/Um9sbG91dDo0Mg%3D%3D"')
    expect(markup).toContain('data-status="PROGRESSING"')
  })

  it('every status has its chip and label', () => {
    const recent = ROLLOUT_STATUSES.map((status: RolloutStatus, i) => rollout({ id: `r${i}`, status, finishedAt: '2026-11-27T09:58:30Z' }))
    const markup = html({ name: 'checkout', stableVersion: 'v1', active: null, recent })
    for (const status of ROLLOUT_STATUSES) expect(markup).toContain(`data-status="${status}"`)
    for (const label of ['Pending', 'Progressing', 'Paused', 'Succeeded', 'Rolling back', 'Rolled back', 'Aborted', 'Failed']) expect(markup).toContain(`>${label}</span>`)
    expect(markup).toContain('No rollout in progress.')
    expect(markup).toContain('3m 30s')
  })

  it('an application never rolled out, and no dashboard URL: no links at all', () => {
    const markup = html({ name: 'checkout', stableVersion: null, active: null, recent: [] }, { dashboardUrl: null })
    expect(markup).toContain('stable version <code>none yet</code>')
    expect(markup).toContain('No rollouts yet.')
    expect(markup).not.toContain('<a ')
  })

  it('hostile text from the server is shown as text, never as markup', () => {
    const evil = '<img src=x onerror=alert(1)>'
    const active = rollout({ toVersion: evil, lastDecision: { action: evil, reason: `</td><script>alert(1)</script>`, at: 'not a date', actor: evil } })
    const markup = html({ name: 'checkout', stableVersion: evil, active, recent: [active] })
    expect(markup).not.toContain('<img')
    expect(markup).not.toContain('<script')
    expect(markup).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(markup).toContain('at —:')
  })

  it('odd numbers from the server: weights clamped, unknown step index, missing times', () => {
    const active = rollout({ canaryWeight: 100, currentStepIndex: 7, startedAt: null, createdAt: 'garbage' })
    const markup = html({ name: 'checkout', stableVersion: 'v1', active, recent: [active] })
    expect(markup).toContain('aria-valuenow="100"')
    expect(markup).toContain('Step 2 of 2')
    expect(markup).toContain('for —')
  })

  it('loading and error states keep the title and the link to the application', () => {
    const props = { entityName: 'checkout-service', target: { kind: 'ok', application: 'checkout' }, dashboardUrl: 'https://sentra.example.com', now: NOW } as const
    const loading = renderToStaticMarkup(<RolloutsCardView {...props} state={{ status: 'loading' }} />)
    expect(loading).toContain('Sentra rollouts')
    expect(loading).toContain('Loading the rollouts of checkout…')
    expect(loading).toContain('href="https://sentra.example.com/applications/checkout"')
    const failed = renderToStaticMarkup(<RolloutsCardView {...props} state={{ status: 'error', error: new Error('Sentra did not answer within 10 s') }} />)
    expect(failed).toContain('role="alert"')
    expect(failed).toContain('Could not load the rollouts of checkout: Sentra did not answer within 10 s')
  })
})
