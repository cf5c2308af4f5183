import type { Metadata } from 'next'
import { Suspense } from 'react'
import { RolloutsClient } from './client.tsx'

export const metadata: Metadata = { title: 'Rollouts' }

/** The rollout list; the filters live in the URL (?application=…&status=…), read by the client. */
export default function RolloutsPage() {
  return (
    <Suspense>
      <RolloutsClient />
    </Suspense>
  )
}
