import { useEffect, useState } from 'react'
import type { SentraApi } from '../api/SentraApi'
import type { ApplicationRollouts } from '../api/types'

export type RolloutsState =
  | { status: 'loading' }
  | { status: 'loaded'; data: ApplicationRollouts }
  | { status: 'not-found' }
  | { status: 'error'; error: Error }

/**
 * Loads an application's rollouts and reloads them every `refreshIntervalMs` (0: never), so
 * the weight of a rollout in progress moves. A failed reload shows the error; the next one
 * that succeeds replaces it.
 */
export function useApplicationRollouts(api: SentraApi, application: string | null, { recent, refreshIntervalMs }: { recent: number; refreshIntervalMs: number }): RolloutsState {
  const [state, setState] = useState<RolloutsState>({ status: 'loading' })

  useEffect(() => {
    if (application === null) return undefined
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | null = null
    setState({ status: 'loading' })
    const load = async () => {
      try {
        const data = await api.getApplicationRollouts(application, { recent, signal: controller.signal })
        if (!controller.signal.aborted) setState(data === null ? { status: 'not-found' } : { status: 'loaded', data })
      } catch (error) {
        if (!controller.signal.aborted) setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) })
      }
      if (!controller.signal.aborted && refreshIntervalMs > 0) timer = setTimeout(() => void load(), refreshIntervalMs)
    }
    void load()
    return () => {
      controller.abort()
      if (timer) clearTimeout(timer)
    }
  }, [api, application, recent, refreshIntervalMs])

  return state
}
