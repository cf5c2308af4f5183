import type { Metadata } from 'next'
import { ApplicationsClient } from './client.tsx'

export const metadata: Metadata = { title: 'Applications' }

export default function ApplicationsPage() {
  return <ApplicationsClient />
}
