'use client'

import { useEffect, useState } from 'react'
import { useLive } from './live-provider.tsx'
import { useViewer } from './viewer.tsx'

/**
 * Says plainly when what is on screen may be stale: the live connection was lost (it
 * reconnects by itself, and the pages refetch when it is back), or the session is no
 * longer valid.
 */
export function ConnectionBanner() {
  const { state } = useLive()
  const viewer = useViewer()
  // A brief blip is not worth a banner.
  const [show, setShow] = useState(false)
  useEffect(() => {
    if (state !== 'reconnecting') return setShow(false)
    const timer = setTimeout(() => setShow(true), 1500)
    return () => clearTimeout(timer)
  }, [state])

  if (state === 'unauthorized' || viewer.unauthenticated) {
    return (
      <div className="banner banner-bad" role="alert">
        Your session is not valid any more (the token was revoked or is unknown). <a href="/login">Sign in again</a>.
      </div>
    )
  }
  if (show) {
    return (
      <div className="banner banner-warn" role="status" data-testid="disconnected">
        Live updates lost: reconnecting… What you see may be out of date until the connection is back.
      </div>
    )
  }
  return null
}
