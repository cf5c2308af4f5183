import { describe, expect, it } from 'vitest'
import { traceUrl, traceUrlTemplateProblem } from '../../schema/graph/trace-url.ts'
import type { LinkedTrace } from '../../schema/store/models.ts'
import { ConfigError, readConfig } from '../../server/config.ts'

const TRACE: LinkedTrace = {
  id: 'row',
  rolloutId: 'r',
  stepIndex: 1,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  version: 'v2 beta&co',
  status: 'error',
  durationMs: 812.5,
  rootName: 'GET /',
  at: new Date('2026-02-03T04:05:06.000Z'),
  application: 'shop',
  service: 'front end',
  error: true,
  source: 'otlp',
  spanCount: 3,
}

describe('trace URL template', () => {
  it('fills every placeholder, URL-encoded; no template, no link', () => {
    const start = TRACE.at.getTime()
    expect(traceUrl('https://grafana.example/explore?q={{traceId}}&v={{ version }}&s={{service}}&a={{application}}&from={{startMs}}&to={{endMs}}', TRACE)).toBe(
      `https://grafana.example/explore?q=4bf92f3577b34da6a3ce929d0e0e4736&v=v2%20beta%26co&s=front%20end&a=shop&from=${start - 60_000}&to=${start + 813 + 60_000}`,
    )
    expect(traceUrl(null, TRACE)).toBeNull()
    expect(traceUrl('', TRACE)).toBeNull()
  })

  it('refuses templates that cannot make a link, with the reason', () => {
    expect(traceUrlTemplateProblem('https://jaeger.example/trace/{{traceId}}')).toBeNull()
    expect(traceUrlTemplateProblem('https://grafana.example/explore?panes={"q":"{{traceId}}"}')).toBeNull()
    expect(traceUrlTemplateProblem('https://jaeger.example/trace/')).toBe('must contain {{traceId}}')
    expect(traceUrlTemplateProblem('javascript:alert(1)//{{traceId}}')).toBe('must be an http:// or https:// URL')
    expect(traceUrlTemplateProblem('ftp://x/{{traceId}}')).toBe('must be an http:// or https:// URL')
    expect(traceUrlTemplateProblem('https://x/{{traceId}} {{version}}')).toBe('must not contain spaces')
    expect(traceUrlTemplateProblem('https://x/{{traceId}}/{{tenant}}')).toMatch(/^unknown placeholder \{\{tenant\}\}/)
    expect(traceUrlTemplateProblem(`https://x/{{traceId}}?${'a'.repeat(2100)}`)).toBe('must be at most 2048 characters')
  })

  it('SENTRA_TRACE_URL_TEMPLATE is read and checked at start', () => {
    expect(readConfig({}).traceUrlTemplate).toBeNull()
    expect(readConfig({ SENTRA_TRACE_URL_TEMPLATE: 'https://j.example/trace/{{traceId}}' }).traceUrlTemplate).toBe('https://j.example/trace/{{traceId}}')
    expect(() => readConfig({ SENTRA_TRACE_URL_TEMPLATE: 'https://j.example/trace/' })).toThrow(new ConfigError('SENTRA_TRACE_URL_TEMPLATE: must contain {{traceId}}'))
  })
})
