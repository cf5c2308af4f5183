/** How long ago an ISO time was, kubectl style: `42s`, `5m`, `3h`, `2d`; `-` for none. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-'
  const ms = now - Date.parse(iso)
  if (!Number.isFinite(ms)) return '-'
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 120) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  return `${Math.floor(h / 24)}d`
}

/** An ISO time to the second, in UTC: `2025-05-01T12:00:03Z`; `-` for none. */
export function timestamp(iso: string | null | undefined): string {
  if (!iso) return '-'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '-' : `${date.toISOString().slice(0, 19)}Z`
}

/** The local wall-clock time of an ISO time: `12:00:03`. */
export function clock(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '--:--:--'
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}
