/** SENTRA_KUBERNETES / SENTRA_KUBECONFIG: when Sentra gets a Kubernetes target, and bad values refused at start. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { kubernetesTargets } from '../../controller/targets/kubernetes-config.ts'
import { ConfigError, readConfig } from '../../server/config.ts'

function kubeconfigFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sentra-kubeconfig-')), 'config')
  writeFileSync(file, content)
  return file
}

const VALID = 'apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "http://127.0.0.1:1", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: {} }]\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\ncurrent-context: x\n'

describe('Kubernetes target configuration', () => {
  it('is off unless asked for', async () => {
    expect(readConfig({}).kubernetes).toBeNull()
    expect(readConfig({ SENTRA_KUBERNETES: '0', SENTRA_KUBECONFIG: kubeconfigFile(VALID) }).kubernetes).toBeNull()
    expect(await kubernetesTargets({ kubernetes: null })).toEqual({})
  })

  it('SENTRA_KUBECONFIG turns it on with that file; SENTRA_KUBERNETES=1 uses the standard locations', async () => {
    const file = kubeconfigFile(VALID)
    expect(readConfig({ SENTRA_KUBECONFIG: file }).kubernetes).toEqual({ kubeconfig: file })
    expect(readConfig({ SENTRA_KUBERNETES: 'on' }).kubernetes).toEqual({ kubeconfig: null })
    const lines: string[] = []
    const { kubernetes } = await kubernetesTargets({ kubernetes: { kubeconfig: file } }, (line) => lines.push(line))
    expect(kubernetes?.kind).toBe('kubernetes')
    expect(lines).toEqual(['kubernetes target: API server http://127.0.0.1:1'])
    await kubernetes?.close()
  })

  it('refuses bad values with the variable named', async () => {
    expect(() => readConfig({ SENTRA_KUBERNETES: 'maybe' })).toThrow(ConfigError)
    expect(() => readConfig({ SENTRA_KUBERNETES: 'maybe' })).toThrow(/SENTRA_KUBERNETES: "maybe" is not a boolean/)
    expect(() => readConfig({ SENTRA_KUBECONFIG: '/nonexistent/kubeconfig' })).toThrow(/SENTRA_KUBECONFIG: "\/nonexistent\/kubeconfig" does not exist/)
    // A kubeconfig that is not one fails the start with the reason, not later in a rollout.
    await expect(kubernetesTargets({ kubernetes: { kubeconfig: kubeconfigFile('{ not: [yaml') } })).rejects.toThrow()
    await expect(kubernetesTargets({ kubernetes: { kubeconfig: kubeconfigFile('apiVersion: v1\nkind: Config\n') } })).rejects.toThrow(/no Kubernetes cluster configured/)
  })
})
