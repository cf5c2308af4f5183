import type { Metadata } from 'next'
import { RolloutClient } from './client.tsx'

export const metadata: Metadata = { title: 'Rollout' }

/** One rollout, live; the id is the API's global ID (URL-encoded in the path). */
export default async function RolloutPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params
  let decoded = id
  try {
    decoded = decodeURIComponent(id)
  } catch {
    // Leave a malformed escape as it is; the API answers "not found".
  }
  return <RolloutClient id={decoded} />
}
