'use client'

export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="card error-state" role="alert">
      <h2>Something went wrong on this page</h2>
      <p className="muted">{error.digest ? `Reference ${error.digest}` : error.message}</p>
      <button type="button" className="button" onClick={reset}>
        Try again
      </button>
    </div>
  )
}
