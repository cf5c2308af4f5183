import { dnsNameProblem } from '../spec/rules.ts'
import type { ApiToken } from '../store/models.ts'
import { builder } from './builder.ts'
import { TokenScopeEnum } from './enums.ts'
import { badInput, invalidDocument, notFound, type FieldIssue } from './errors.ts'

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/
const EXPIRES_IN = /^(\d{1,6})(m|h|d)$/
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const MIN_LIFETIME_MS = 60_000
const MAX_LIFETIME_MS = 3650 * 86_400_000
const MAX_APPLICATIONS = 100

/** When a new token expires: `expiresIn` (`30m`, `12h`, `90d`) or `expiresAt`, at most one; null = never. */
export function tokenExpiry(expiresIn: string | null | undefined, expiresAt: Date | null | undefined, now = Date.now()): Date | null {
  if (expiresIn != null && expiresAt != null) throw badInput('give expiresIn or expiresAt, not both', 'expiresIn')
  let at: number
  let path: string
  if (expiresIn != null) {
    path = 'expiresIn'
    const match = EXPIRES_IN.exec(expiresIn)
    if (!match) throw badInput('expiresIn: a whole number of minutes, hours or days, such as "30m", "12h" or "90d"', path)
    at = now + Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  } else if (expiresAt != null) {
    path = 'expiresAt'
    at = expiresAt.getTime()
  } else {
    return null
  }
  if (at - now < MIN_LIFETIME_MS) throw badInput(`${path}: must be at least a minute from now`, path)
  if (at - now > MAX_LIFETIME_MS) throw badInput(`${path}: must be at most 3650 days from now`, path)
  return new Date(at)
}

/** The applications a new token is limited to (valid names, no duplicates), or null for every application. */
export function tokenApplications(names: readonly string[] | null | undefined): string[] | null {
  if (names == null) return null
  if (names.length === 0) throw badInput('applications: name at least one application, or leave it out for every application', 'applications')
  if (names.length > MAX_APPLICATIONS) throw badInput(`applications: at most ${MAX_APPLICATIONS}`, 'applications')
  const issues: FieldIssue[] = []
  names.forEach((name, i) => {
    const problem = dnsNameProblem(name.slice(0, 64), 'label')
    if (problem) issues.push({ path: `applications[${i}]`, message: `an application name: ${problem}` })
  })
  if (issues.length > 0) throw invalidDocument('applications', issues)
  return [...new Set(names)].sort()
}

export const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  description: 'An API token. The token itself is shown once, when created; only its hash is kept.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    scope: t.expose('scope', { type: TokenScopeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'After this the token is refused, as if revoked; null = never.' }),
    applications: t.exposeStringList('applications', {
      nullable: true,
      description: 'The only applications the token may see and operate; null = every application.',
    }),
  }),
})

const CreatedTokenRef = builder.objectRef<{ token: string; apiToken: ApiToken }>('CreatedApiToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Shown only now; store it safely.' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (c) => c.apiToken }),
  }),
})

const ViewerRef = builder.objectRef<{ name: string; scope: ApiToken['scope']; applications: string[] | null }>('Viewer').implement({
  description: 'Who the caller is.',
  fields: (t) => ({
    name: t.exposeString('name'),
    scope: t.expose('scope', { type: TokenScopeEnum }),
    applications: t.exposeStringList('applications', {
      nullable: true,
      description: 'The only applications this token may see and operate; null = every application.',
    }),
  }),
})

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    resolve: (_root, _args, ctx) => ({
      name: ctx.actor?.name ?? 'anonymous',
      scope: ctx.actor?.scope ?? 'read',
      applications: ctx.actor?.applications ? [...ctx.actor.applications].sort() : null,
    }),
  }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.store.tokens.list(),
  }),
}))

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedTokenRef,
    authScopes: { admin: true },
    description: 'Issues a token (shown only in the answer), optionally expiring and limited to some applications. Needs an admin token that is not itself limited.',
    args: {
      name: t.arg.string({ required: true }),
      scope: t.arg({ type: TokenScopeEnum, required: true }),
      expiresIn: t.arg.string({ required: false, description: 'Lifetime: "30m", "12h", "90d" (1 minute to 3650 days). Not with expiresAt.' }),
      expiresAt: t.arg({ type: 'DateTime', required: false, description: 'When it stops working (1 minute to 3650 days from now). Not with expiresIn.' }),
      applications: t.arg.stringList({
        required: false,
        description: 'Limit the token to these applications (they need not exist yet); leave it out for every application.',
      }),
    },
    resolve: (_root, args, ctx) => {
      if (!TOKEN_NAME.test(args.name)) throw badInput('name: 1-128 letters, digits, spaces and . _ @ -', 'name')
      const expiresAt = tokenExpiry(args.expiresIn, args.expiresAt)
      const applications = tokenApplications(args.applications)
      return ctx.store.tokens.create(args.name, args.scope, { expiresAt, applications })
    },
  }),
  revokeApiToken: t.field({
    type: 'Boolean',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (args.id.length > 64) throw badInput('id: not a valid token id', 'id')
      if (!(await ctx.store.tokens.revoke(args.id))) throw notFound(`token ${args.id} does not exist or is already revoked`)
      return true
    },
  }),
}))
