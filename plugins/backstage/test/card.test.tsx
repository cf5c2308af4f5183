import type { ApiRef } from '@backstage/core-plugin-api'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { sentraApiRef, type SentraApi } from '../src/api/SentraApi'
import { SentraClient } from '../src/api/SentraClient'
import { SentraRolloutsCard } from '../src/components/SentraRolloutsCard'
import { EntitySentraRolloutsCard } from '../src/plugin'
import { BackstageTestApp, entityWith, links, render, textOf, waitUntil } from './support/backstage'
import { freePort } from './support/ports'
import type { ReactTestRenderer } from 'react-test-renderer'

const sentra = inject('sentra')
const DASHBOARD = 'https://sentra.example.com'
const annotated = entityWith({ 'sentra.dev/application': sentra.application })

/** A real client on the real server (or a dead port), counting its calls. */
function clientFor(baseUrl: string, token: string | undefined = sentra.token): SentraApi & { calls: number } {
  const client = new SentraClient({ baseUrl, dashboardUrl: DASHBOARD, ...(token ? { token } : {}) })
  const counted = {
    calls: 0,
    dashboardUrl: client.dashboardUrl,
    getApplicationRollouts: (...args: Parameters<SentraClient['getApplicationRollouts']>) => {
      counted.calls++
      return client.getApplicationRollouts(...args)
    },
  }
  return counted
}

const apis = (api: SentraApi): [ApiRef<unknown>, unknown][] => [[sentraApiRef as ApiRef<unknown>, api]]
const rolloutLink = (id: string) => `${DASHBOARD}/rollouts/${encodeURIComponent(id)}`

describe('the entity card on a real Sentra', () => {
  let mounted: ReactTestRenderer | null = null
  afterEach(() => {
    mounted?.unmount()
    mounted = null
  })

  it('shows loading first, then the current rollout (status, weight, step, last decision) and the recent ones, linked to the dashboard', async () => {
    const api = clientFor(sentra.url)
    mounted = await render(
      <BackstageTestApp apis={apis(api)} entity={annotated}>
        <SentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    // The first paint cannot have the answer yet (react-test-renderer flushes effects, not the network).
    expect(textOf(mounted)).toContain(`Loading the rollouts of ${sentra.application}…`)

    const text = await waitUntil(mounted, (t) => t.includes('Recent rollouts'))
    expect(text).toContain(`${sentra.application} · stable version v1`)
    expect(text).toContain('Current rollout: v1 → v3 Paused')
    expect(text).toContain('20 %')
    expect(text).toContain('Step 2 of 2: paused, waiting for a person')
    expect(text).toMatch(/Last decision: \w+ by controller at \d{4}-\d\d-\d\d \d\d:\d\d UTC: /)
    expect(text).toContain('v1 → v3 Paused')
    expect(text).toContain('v1 → v2 Aborted')
    expect(text).toContain('v1 (initial deploy) Succeeded')

    const bar = mounted.root.findByProps({ role: 'progressbar' })
    expect(bar.props['aria-valuenow']).toBe(20)

    expect(links(mounted)).toEqual([
      { text: 'Open in Sentra', href: `${DASHBOARD}/applications/${sentra.application}` },
      { text: 'v1 → v3', href: rolloutLink(sentra.rollouts.v3) },
      { text: 'v1 → v3', href: rolloutLink(sentra.rollouts.v3) },
      { text: 'v1 → v2', href: rolloutLink(sentra.rollouts.v2) },
      { text: 'v1 (initial deploy)', href: rolloutLink(sentra.rollouts.v1) },
    ])
    for (const a of mounted.root.findAllByType('a')) expect(a.props.rel).toBe('noopener noreferrer')
    expect(api.calls).toBe(1)
  })

  it('reloads on its interval, so the weight of a rollout in progress moves', async () => {
    const api = clientFor(sentra.url)
    mounted = await render(
      <BackstageTestApp apis={apis(api)} entity={annotated}>
        <SentraRolloutsCard refreshIntervalMs={100} />
      </BackstageTestApp>,
    )
    await waitUntil(mounted, (t) => t.includes('Recent rollouts'))
    await waitUntil(mounted, () => api.calls >= 3)
    expect(textOf(mounted)).toContain('Current rollout: v1 → v3 Paused')
  })

  it('says the application does not exist when Sentra has none of that name', async () => {
    mounted = await render(
      <BackstageTestApp apis={apis(clientFor(sentra.url))} entity={entityWith({ 'sentra.dev/application': 'payments' })}>
        <SentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    const text = await waitUntil(mounted, (t) => !t.includes('Loading'))
    expect(text).toContain('Sentra has no application named payments. Check the annotation sentra.dev/application')
    expect(links(mounted)).toEqual([])
  })

  it('explains the missing annotation, and asks Sentra nothing', async () => {
    const api = clientFor(sentra.url)
    mounted = await render(
      <BackstageTestApp apis={apis(api)} entity={entityWith({ 'backstage.io/techdocs-ref': 'dir:.' })}>
        <SentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    expect(textOf(mounted)).toContain('checkout-service is not linked to a Sentra application. Add the annotation sentra.dev/application: <application> to its catalog-info.yaml.')
    expect(api.calls).toBe(0)
  })

  it('refuses an annotation that is not a Sentra name (hostile or mistyped), and asks Sentra nothing', async () => {
    for (const value of ['Checkout', '../../graphql?x=1', '<img src=x onerror=alert(1)>', 'x'.repeat(200)]) {
      const api = clientFor(sentra.url)
      const card = await render(
        <BackstageTestApp apis={apis(api)} entity={entityWith({ 'sentra.dev/application': value })}>
          <SentraRolloutsCard refreshIntervalMs={0} />
        </BackstageTestApp>,
      )
      const text = textOf(card)
      expect(text).toContain('The annotation sentra.dev/application of checkout-service is')
      expect(text).toContain('which is not a Sentra application name')
      expect(text).toContain(value.slice(0, 80))
      if (value.length > 80) expect(text).not.toContain(value.slice(0, 81))
      expect(api.calls).toBe(0)
      card.unmount()
    }
  })

  it('shows a clear error for a bad token', async () => {
    mounted = await render(
      <BackstageTestApp apis={apis(clientFor(sentra.url, 'wrong-token-0123456789abcdef'))} entity={annotated}>
        <SentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    const text = await waitUntil(mounted, (t) => !t.includes('Loading'))
    expect(text).toContain(`Could not load the rollouts of ${sentra.application}: Sentra refused the request: not signed in (HTTP 401`)
    expect(mounted.root.findByProps({ role: 'alert' })).toBeDefined()
  })

  it('shows a clear error when Sentra is down', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    mounted = await render(
      <BackstageTestApp apis={apis(clientFor(dead))} entity={annotated}>
        <SentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    const text = await waitUntil(mounted, (t) => !t.includes('Loading'))
    expect(text).toContain(`Could not load the rollouts of ${sentra.application}: Cannot reach Sentra at ${dead}/graphql: `)
    expect(text).toContain('ECONNREFUSED')
  })

  it('takes the entity as a prop outside an entity page', async () => {
    mounted = await render(
      <BackstageTestApp apis={apis(clientFor(sentra.url))}>
        <SentraRolloutsCard entity={annotated} refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    expect(await waitUntil(mounted, (t) => t.includes('Recent rollouts'))).toContain('stable version v1')
  })

  it('the plugin extension (lazy, inside Backstage’s Suspense and error boundary) renders the same card', async () => {
    mounted = await render(
      <BackstageTestApp apis={apis(clientFor(sentra.url))} entity={annotated}>
        <EntitySentraRolloutsCard refreshIntervalMs={0} />
      </BackstageTestApp>,
    )
    expect(await waitUntil(mounted, (t) => t.includes('Recent rollouts'))).toContain('Current rollout: v1 → v3 Paused')
  })

  it('the extension outside an entity page, without the prop: the app’s error boundary says why', async () => {
    const errors = console.error
    console.error = () => undefined // React logs the caught error; it is the expected outcome here.
    try {
      mounted = await render(
        <BackstageTestApp apis={apis(clientFor(sentra.url))}>
          <EntitySentraRolloutsCard refreshIntervalMs={0} />
        </BackstageTestApp>,
      )
      expect(await waitUntil(mounted, (t) => t.includes('app error boundary'))).toContain('SentraRolloutsCard: no entity. Put the card on an entity page')
    } finally {
      console.error = errors
    }
  })
})
