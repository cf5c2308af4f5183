import type { Metadata } from 'next'
import { ApplicationClient } from './client.tsx'

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  const { name } = await params
  return { title: decodeURIComponent(name) }
}

export default async function ApplicationPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params
  return <ApplicationClient name={decodeURIComponent(name)} />
}
