/**
 * Whether a request's Accept header names a media type yoga can answer a GraphQL result in.
 * Yoga negotiates only after executing, so a POST whose Accept it cannot satisfy would run
 * its mutation and then be answered 406 with an empty body: the write happened, the client
 * saw a refusal. The server checks first with this, which mirrors yoga's own matching
 * (graphql-yoga result-processor/accept.ts: ranges are matched by type and subtype with
 * wildcards on the asked side, and only utf-8, stated or implied, counts).
 */
const ANSWER_TYPES = ['text/event-stream', 'multipart/mixed', 'application/graphql-response+json', 'application/json'].map((t) => t.split('/') as [string, string])

export function acceptsGraphqlAnswer(accept: string | undefined): boolean {
  const ranges = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')
  return ranges.some((range) => {
    const [type = '', ...params] = range.split(';')
    const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8'
    if (charset !== 'charset=utf-8') return false
    const [pre, suf] = type.split('/')
    return ANSWER_TYPES.some(([tp, ts]) => (pre === '*' || pre === tp) && (suf === '*' || suf === ts))
  })
}
