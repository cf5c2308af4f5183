'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'

const LINKS = [
  { href: '/', label: 'Rollouts', match: (p: string) => p === '/' || p.startsWith('/rollouts') },
  { href: '/applications', label: 'Applications', match: (p: string) => p.startsWith('/applications') },
]

export function NavLinks() {
  const pathname = usePathname()
  return (
    <nav aria-label="Main" className="nav">
      {LINKS.map((link) => (
        <Link key={link.href} href={link.href} className="nav-link" aria-current={link.match(pathname) ? 'page' : undefined}>
          {link.label}
        </Link>
      ))}
    </nav>
  )
}
