import Link from 'next/link'

export default function NotFoundPage() {
  return (
    <main className="page" id="main">
      <div className="card empty-state">
        <h1>Page not found</h1>
        <p className="muted">
          <Link href="/">Back to the rollouts</Link>
        </p>
      </div>
    </main>
  )
}
