import { ROLES, currentRole } from './roles.mjs'

// HEALTHCHECK of the image: asks the running role's own health URL (exit 0 healthy, 1 not).
const entry = ROLES[currentRole([], process.env)]
const url = entry?.health()
if (!url) process.exit(entry ? 0 : 1)
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000), redirect: 'manual' })
  process.exit(response.status < 400 ? 0 : 1)
} catch {
  process.exit(1)
}
