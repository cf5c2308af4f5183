import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './rollouts.ts'

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus'

export interface RunningPrometheus {
  url: string
  stop(): Promise<void>
}

/**
 * A real Prometheus (Debian's package) on a loopback port with its own config and data
 * directory, scraping `targets` every second (at `metricsPath`, /metrics by default, with
 * `Authorization: Bearer <bearerToken>` when given). Missing Prometheus fails, never skips.
 */
export async function startPrometheus(
  targets: readonly string[],
  labels: Record<string, string> = {},
  { bearerToken, metricsPath }: { bearerToken?: string; metricsPath?: string } = {},
): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`Prometheus is not installed (${PROMETHEUS_BIN} is missing): apt-get install -y prometheus, or set PROMETHEUS_BIN`)
  }
  const dir = await mkdtemp(join(tmpdir(), 'sentra-prometheus-'))
  const port = await freePort()
  const config = [
    'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: sentra-test',
    ...(metricsPath ? [`    metrics_path: ${JSON.stringify(metricsPath)}`] : []),
    ...(bearerToken ? [`    authorization: { credentials: ${JSON.stringify(bearerToken)} }`] : []),
    '    static_configs:',
    `      - targets: ${JSON.stringify(targets)}`,
    `        labels: ${JSON.stringify(labels)}`,
    '',
  ].join('\n')
  await writeFile(join(dir, 'prometheus.yml'), config)
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (code ${child.exitCode}): ${stderr}`)
      return fetch(`${url}/-/ready`).then((r) => r.status, () => 0)
    },
    (status) => status === 200,
    { timeoutMs: 30_000, everyMs: 100, what: 'Prometheus to be ready' },
  )
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
