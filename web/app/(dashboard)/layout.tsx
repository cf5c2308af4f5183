import { cookies } from 'next/headers'
import Link from 'next/link'
import { redirect } from 'next/navigation'
import type { ReactNode } from 'react'
import { ConnectionBanner } from '../../components/connection-banner.tsx'
import { LiveProvider } from '../../components/live-provider.tsx'
import { NavLinks } from '../../components/nav-links.tsx'
import { ViewerMenu } from '../../components/viewer.tsx'
import { SESSION_COOKIE } from '../../lib/session.ts'

/**
 * Every dashboard page: signed-in only (the API checks the token itself on every request;
 * this only saves a signed-out browser a page of errors), with the live client around it.
 */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  if (!(await cookies()).has(SESSION_COOKIE)) redirect('/login')
  return (
    <LiveProvider>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand" aria-label="Sentra, all rollouts">
          <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">
            <path d="M2 16 L8 9 L12 12 L18 4" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Sentra
        </Link>
        <NavLinks />
        <ViewerMenu />
      </header>
      <ConnectionBanner />
      <main id="main" className="page">
        {children}
      </main>
    </LiveProvider>
  )
}
