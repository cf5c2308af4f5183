import { vi } from 'vitest'
import { checkDockerEngine, dockerSuiteRuns, importTestImage, removeContainersOf, removeImages, requireEngine, TEST_DOCKER_HOST } from '../support/docker.ts'
import { killControllerSuite } from './kill-suite.ts'
import { faultSpec, isBadVersion } from './support.ts'

vi.setConfig({ testTimeout: 25 * 60_000, hookTimeout: 120_000 })

const engine = await checkDockerEngine()
const REPOSITORY = `sentra-kill-${process.pid}/svc`
const imported = new Set<string>()

/** Even versions answer 500 to half their requests, odd ones never (as the process target's service). */
async function ensureImage(version: string): Promise<void> {
  if (imported.has(version)) return
  await importTestImage(`${REPOSITORY}:${version}`, { errorPercent: isBadVersion(version) ? 50 : 0 })
  imported.add(version)
}

// Issue #9, item 2, on the Docker target (the real engine; .ci/run starts one): the same kills
// as on the process target. Containers outlive a killed controller, so each new holder adopts
// them by their labels; the proxy dies with its controller, as on the process target.
// SENTRA_FAULT_DOCKER_KILLS (default 50) and SENTRA_FAULT_DOCKER_APPS (default 4).
if (dockerSuiteRuns(engine)) {
  killControllerSuite({
    kind: 'docker',
    kills: Number(process.env.SENTRA_FAULT_DOCKER_KILLS ?? 50),
    apps: Number(process.env.SENTRA_FAULT_DOCKER_APPS ?? 4),
    seed: Number(process.env.SENTRA_FAULT_SEED ?? 9_2026),
    env: { SENTRA_DOCKER_HOST: 'socketPath' in TEST_DOCKER_HOST ? `unix://${TEST_DOCKER_HOST.socketPath}` : `tcp://${TEST_DOCKER_HOST.host}:${TEST_DOCKER_HOST.port}` },
    prepare: async () => {
      requireEngine(engine)
      await ensureImage('v1')
    },
    // The test image answers its CGI (and its error rate) on / only.
    trafficPath: '/',
    spec: (name, port) =>
      faultSpec(name, port, {
        interval: '1s',
        analyzeMin: '3s',
        target: { kind: 'docker', listen: `127.0.0.1:${port}`, image: `${REPOSITORY}:{{version}}`, containerPort: 8080, env: { APP_VERSION: '{{version}}' }, healthPath: '/healthz' },
      }),
    beforeRollout: (_application, version) => ensureImage(version),
    cleanup: async (applications) => {
      for (const application of applications) await removeContainersOf(application)
      await removeImages([...imported].map((version) => `${REPOSITORY}:${version}`))
    },
  })
}
