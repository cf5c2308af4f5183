import { describe, expect, it } from 'vitest'
import { parseProviderSpec } from './provider-spec.ts'

describe('parseProviderSpec', () => {
  it('accepts a minimal provider and fills defaults', () => {
    expect(parseProviderSpec({ name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090/' })).toEqual({
      ok: true,
      provider: { name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090', headers: {}, timeout: '10s', timeoutMs: 10_000 },
    })
  })

  it('accepts YAML text with auth, headers, tenant and timeout', () => {
    const result = parseProviderSpec('name: logs\nkind: loki\nurl: https://loki.example:3100\nbasicAuth: { username: u, password: p }\nheaders: { X-Team: shop }\ntenant: acme\ntimeout: 5s\n')
    expect(result).toMatchObject({ ok: true, provider: { kind: 'loki', tenant: 'acme', timeoutMs: 5000, headers: { 'X-Team': 'shop' }, basicAuth: { username: 'u' } } })
  })

  it.each([
    [{ kind: 'prometheus', url: 'http://h' }, 'name', /required/],
    [{ name: 'Prom', kind: 'prometheus', url: 'http://h' }, 'name', /lowercase/],
    [{ name: 'p', kind: 'graphite', url: 'http://h' }, 'kind', /one of: prometheus, loki, tempo/],
    [{ name: 'p', kind: 'prometheus', url: 'ftp://h' }, 'url', /http/],
    [{ name: 'p', kind: 'prometheus', url: 'not a url' }, 'url', /URL/],
    [{ name: 'p', kind: 'prometheus', url: 'http://user:pw@h' }, 'url', /credentials/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h?x=1' }, 'url', /query string/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', timeout: '2h' }, 'timeout', /between/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', timeout: 'soon' }, 'timeout', /./],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', headers: { Authorization: 'x' } }, 'headers.Authorization', /set by Sentra/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', headers: { 'bad name': 'x' } }, 'headers["bad name"]', /header name/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', headers: { 'X-A': 'a\r\nInjected: 1' } }, 'headers.X-A', /line breaks/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', bearerToken: 't', basicAuth: { username: 'u', password: 'p' } }, 'basicAuth', /together/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', passwd: 'x' }, 'passwd', /unknown field/],
    [{ name: 'p', kind: 'prometheus', url: 'http://h', headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-${i}`, 'v'])) }, 'headers', /at most 20/],
  ])('rejects %j at %s', (input, path, message) => {
    const result = parseProviderSpec(input)
    expect(result.ok).toBe(false)
    if (result.ok) return
    const issue = result.issues.find((i) => i.path === path)
    expect(issue, JSON.stringify(result.issues)).toBeDefined()
    expect(issue?.message).toMatch(message)
  })

  it('rejects hostile input', () => {
    for (const input of [null, 42, [], 'x'.repeat(300 * 1024), '{ "__proto__": { "polluted": true } }', 'a: &a [*a]']) {
      expect(parseProviderSpec(input).ok).toBe(false)
    }
  })
})
