import type { CSSProperties, ReactNode } from 'react'
import type { RolloutStatus } from '../api/types'
import { STATUS_LABELS } from './format'

/**
 * Small presentational pieces with inline styles: the plugin ships no UI library (Backstage's
 * core-components and Material UI would multiply its install size), and inherits the page's
 * font and colours where it can.
 */

const CHIP_COLOURS: Record<RolloutStatus, { background: string; color: string }> = {
  PENDING: { background: '#e0e0e0', color: '#333' },
  PROGRESSING: { background: '#d6e8ff', color: '#0b4ea2' },
  PAUSED: { background: '#fff1c2', color: '#7a5400' },
  SUCCEEDED: { background: '#d4f4dd', color: '#12672e' },
  ROLLING_BACK: { background: '#ffe0cc', color: '#8a3b00' },
  ROLLED_BACK: { background: '#ffd9d9', color: '#9b1c1c' },
  ABORTED: { background: '#ececec', color: '#555' },
  FAILED: { background: '#ffd9d9', color: '#9b1c1c' },
}

export function StatusChip({ status }: { status: RolloutStatus }) {
  const style: CSSProperties = { ...CHIP_COLOURS[status], borderRadius: 12, padding: '2px 8px', fontSize: '0.75rem', fontWeight: 600, whiteSpace: 'nowrap' }
  return (
    <span data-status={status} style={style}>
      {STATUS_LABELS[status]}
    </span>
  )
}

/** The canary's share of traffic, as a bar (with its number: colour alone says nothing to some). */
export function WeightBar({ weight }: { weight: number }) {
  const clamped = Math.max(0, Math.min(100, weight))
  return (
    <div style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
      <div role="progressbar" aria-label="Traffic on the new version" aria-valuemin={0} aria-valuemax={100} aria-valuenow={clamped} style={{ flex: 1, height: 8, borderRadius: 4, background: '#e5e5e5', overflow: 'hidden' }}>
        <div style={{ width: `${clamped}%`, height: '100%', background: '#2f7de1' }} />
      </div>
      <span style={{ fontVariantNumeric: 'tabular-nums', minWidth: '3.5em', textAlign: 'right' }}>{clamped} %</span>
    </div>
  )
}

/** An external link when there is a dashboard URL; plain text otherwise. */
export function DashboardLink({ href, children }: { href: string | null; children: ReactNode }) {
  if (href === null) return <>{children}</>
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  )
}

export function CardFrame({ title, action, children }: { title: string; action?: ReactNode; children: ReactNode }) {
  return (
    <section aria-label={title} style={{ border: '1px solid rgba(0,0,0,0.12)', borderRadius: 4, padding: 16 }}>
      <header style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'baseline', marginBottom: 12 }}>
        <h2 style={{ margin: 0, fontSize: '1.25rem' }}>{title}</h2>
        {action}
      </header>
      {children}
    </section>
  )
}

export function Notice({ tone, children }: { tone: 'info' | 'error'; children: ReactNode }) {
  return (
    <div role={tone === 'error' ? 'alert' : 'status'} style={{ padding: 12, borderRadius: 4, background: tone === 'error' ? '#fdecea' : '#eef4fb' }}>
      {children}
    </div>
  )
}
