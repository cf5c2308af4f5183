/**
 * `npm run bench -- targets`: for each platform target, the time from a decision (a new
 * weight) to that weight being observed, and the platform API calls made per step (fewer is
 * better) — the Kubernetes target against the API stand-in (test/standins/kubernetes), the
 * Docker target against the real engine. A target whose platform is missing here is reported
 * as skipped with the reason, not measured.
 */
import { measureDocker } from './targets-docker.ts'
import { measureKubernetes } from './targets-kubernetes.ts'

async function attempt(name: string, measure: () => Promise<object>): Promise<object> {
  try {
    return await measure()
  } catch (error) {
    return { skipped: `${name}: ${error instanceof Error ? error.message : String(error)}` }
  }
}

export async function run(): Promise<object> {
  process.stderr.write('targets: kubernetes (stand-in API server)\n')
  const kubernetes = await attempt('kubernetes', measureKubernetes)
  process.stderr.write('targets: docker (real engine)\n')
  const docker = await attempt('docker', measureDocker)
  return { benchmark: 'targets', kubernetes, docker }
}
