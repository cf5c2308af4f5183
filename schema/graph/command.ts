import type { OperatorCommand } from '../store/models.ts'
import { builder } from './builder.ts'
import { CommandKindEnum } from './enums.ts'

export const CommandRef = builder.objectRef<OperatorCommand>('OperatorCommand').implement({
  description: 'A command a person gave; the controller applies it and records the outcome.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: CommandKindEnum }),
    full: t.exposeBoolean('full'),
    actor: t.exposeString('actor'),
    reason: t.exposeString('reason', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    appliedAt: t.expose('appliedAt', { type: 'DateTime', nullable: true }),
    outcome: t.exposeString('outcome', { nullable: true }),
  }),
})
