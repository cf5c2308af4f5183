import type { ApiHolder, ApiRef, AppComponents, ErrorBoundaryFallbackProps } from '@backstage/core-plugin-api'
import { createVersionedContext, createVersionedValueMap } from '@backstage/version-bridge'
import { act, type ReactNode } from 'react'
import { create, type ReactTestInstance, type ReactTestRenderer, type ReactTestRendererJSON } from 'react-test-renderer'
import type { SentraEntity } from '../../src/entity'

// React warns when state changes outside act(); this tells it the tests wrap them.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

/*
 * The three React contexts a Backstage app gives its plugins, under the keys and versions
 * Backstage's own providers use (@backstage/version-bridge keeps them global, so these are
 * the very contexts useApi(), useApp() and the catalog's useEntity() read):
 * - 'api-context' v1: an ApiHolder (core-app-api's ApiProvider),
 * - 'app-context' v1: the app's components (core-app-api's AppContextProvider),
 * - 'entity-context' v1: { entity, loading } (plugin-catalog-react's EntityProvider).
 */
const ApiContext = createVersionedContext<{ 1: ApiHolder }>('api-context')
const AppContext = createVersionedContext<{ 1: { getComponents(): Pick<AppComponents, 'Progress' | 'ErrorBoundaryFallback'> } }>('app-context')
const EntityContext = createVersionedContext<{ 1: { entity?: SentraEntity; loading: boolean } }>('entity-context')

function Progress() {
  return <div>app progress</div>
}
function ErrorBoundaryFallback({ error }: ErrorBoundaryFallbackProps) {
  return <div>app error boundary: {error.message}</div>
}

export function BackstageTestApp({ apis, entity, children }: { apis: [ApiRef<unknown>, unknown][]; entity?: SentraEntity; children: ReactNode }) {
  const holder: ApiHolder = { get: <T,>(ref: ApiRef<T>) => apis.find(([r]) => r.id === ref.id)?.[1] as T | undefined }
  const app = { getComponents: () => ({ Progress, ErrorBoundaryFallback }) }
  const content = entity ? <EntityContext.Provider value={createVersionedValueMap({ 1: { entity, loading: false } })}>{children}</EntityContext.Provider> : children
  return (
    <AppContext.Provider value={createVersionedValueMap({ 1: app })}>
      <ApiContext.Provider value={createVersionedValueMap({ 1: holder })}>{content}</ApiContext.Provider>
    </AppContext.Provider>
  )
}

export function entityWith(annotations: Record<string, string> = {}, name = 'checkout-service'): SentraEntity {
  return { metadata: { name, annotations } }
}

export async function render(element: ReactNode): Promise<ReactTestRenderer> {
  let renderer: ReactTestRenderer | undefined
  await act(async () => {
    renderer = create(<>{element}</>)
  })
  if (!renderer) throw new Error('nothing rendered')
  return renderer
}

/** All the text on screen: inline elements run on, block elements (and table cells) are spaced. */
export function textOf(renderer: ReactTestRenderer): string {
  const inline = new Set(['span', 'a', 'strong', 'code'])
  const walk = (node: ReactTestRendererJSON | string): string => {
    if (typeof node === 'string') return node
    const inner = (node.children ?? []).map(walk).join('')
    return inline.has(node.type) ? inner : ` ${inner} `
  }
  const json = renderer.toJSON()
  const roots = json === null ? [] : Array.isArray(json) ? json : [json]
  return roots.map(walk).join(' ').replace(/\s+/g, ' ').trim()
}

export function links(renderer: ReactTestRenderer): { text: string; href: string }[] {
  const textIn = (node: ReactTestInstance | string): string => (typeof node === 'string' ? node : node.children.map(textIn).join(''))
  return renderer.root.findAllByType('a').map((a) => ({ text: textIn(a), href: String(a.props.href) }))
}

/** Lets effects and fetches run (inside act) until `done` holds; fails with what is on screen. */
export async function waitUntil(renderer: ReactTestRenderer, done: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = textOf(renderer)
    if (done(text)) return text
    if (Date.now() > deadline) throw new Error(`timed out; on screen: ${text}`)
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50))
    })
  }
}
