'use client'

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react'
import { Provider } from 'urql'
import { createLiveClient, type ConnectionState } from '../lib/client.ts'

interface Live {
  state: ConnectionState
  /** Increments each time a lost connection comes back: pages refetch their queries on it. */
  reconnects: number
}

const LiveContext = createContext<Live>({ state: 'connecting', reconnects: 0 })

/** The urql client (with graphql-ws in the browser) and the live connection's state. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [live, setLive] = useState<Live>({ state: 'connecting', reconnects: 0 })
  const [client] = useState(() =>
    createLiveClient({
      onState: (state) => setLive((prev) => (prev.state === state ? prev : { ...prev, state })),
      onReconnected: () => setLive((prev) => ({ ...prev, reconnects: prev.reconnects + 1 })),
    }),
  )
  // Lives as long as the page: never disposed (Strict Mode would re-run a disposing effect).
  return (
    <LiveContext.Provider value={live}>
      <Provider value={client.urql}>{children}</Provider>
    </LiveContext.Provider>
  )
}

export function useLive(): Live {
  return useContext(LiveContext)
}

/**
 * True during server rendering and the hydration render. Data hooks pause then: the
 * server has no session to query with, and the first client render must match it.
 */
export function useOnServer(): boolean {
  const [onServer, setOnServer] = useState(true)
  useEffect(() => setOnServer(false), [])
  return onServer
}

/** The current time, re-read every `everyMs` (for "12 s ago" and time in step). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs])
  return now
}
