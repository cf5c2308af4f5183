import type { NextConfig } from 'next'

/** Headers for every page: never framed (clickjacking), no referrer to elsewhere, no sniffing. */
const SECURITY_HEADERS = [
  { key: 'Content-Security-Policy', value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
]

/**
 * The dashboard tests (test/web) run development mode in a folder of their own per run, so
 * they never clash with a developer's dev server (Next.js allows one per folder and exits
 * the process otherwise), another test run, or a production build; with a tsconfig of
 * their own beside it (`<folder>.tsconfig.json`), which Next.js may rewrite freely.
 */
const testDir = process.env.SENTRA_WEB_DIST_DIR

const config: NextConfig = {
  distDir: testDir || '.next',
  ...(testDir ? { typescript: { tsconfigPath: `${testDir}.tsconfig.json` } } : {}),
  devIndicators: false,
  // The API logs no request lines either.
  logging: { incomingRequests: false },
  reactStrictMode: true,
  poweredByHeader: false,
  // The dashboard is served by the API process (embedded) or web/main.ts: no image optimiser, no remote anything.
  images: { unoptimized: true },
  // Development mode only: its hot-reload socket and assets answer pages from these hosts
  // (localhost is always allowed; createDashboardHandler adds the host it serves on).
  allowedDevOrigins: ['127.0.0.1'],
  turbopack: {
    // codegen writes web/gql/ for NodeNext (imports end in .js, the files in .ts); Turbopack
    // does not map one to the other by itself.
    resolveAlias: { './gql.js': './gql/gql.ts', './graphql.js': './gql/graphql.ts' },
  },
  async headers() {
    return [{ source: '/:path*', headers: SECURITY_HEADERS }]
  },
}

export default config
