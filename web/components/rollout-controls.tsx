'use client'

import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { useMutation } from 'urql'
import { graphql } from '../gql/index.ts'
import type { RolloutControlsFragment, TokenScope } from '../gql/graphql.ts'
import { canOperate, commandRefusal, CONTROLS, type Control } from '../lib/commands.ts'
import { formatAgo, statusLabel } from '../lib/format.ts'

export const RolloutControlsFields = graphql(`
  fragment RolloutControls on Rollout {
    id
    status
    commands {
      id
      kind
      full
      actor
      reason
      createdAt
      appliedAt
      outcome
    }
  }
`)

const Promote = graphql(`
  mutation PromoteRollout($id: ID!, $full: Boolean) {
    promoteRollout(id: $id, full: $full) {
      id
      status
    }
  }
`)
const Pause = graphql(`
  mutation PauseRollout($id: ID!, $reason: String) {
    pauseRollout(id: $id, reason: $reason) {
      id
      status
    }
  }
`)
const Resume = graphql(`
  mutation ResumeRollout($id: ID!) {
    resumeRollout(id: $id) {
      id
      status
    }
  }
`)
const Rollback = graphql(`
  mutation RollbackRollout($id: ID!, $reason: String) {
    rollbackRollout(id: $id, reason: $reason) {
      id
      status
    }
  }
`)
const Abort = graphql(`
  mutation AbortRollout($id: ID!, $reason: String) {
    abortRollout(id: $id, reason: $reason) {
      id
      status
    }
  }
`)

function errorText(error: { graphQLErrors: readonly { message: string }[]; networkError?: Error } | undefined): string | null {
  if (!error) return null
  if (error.graphQLErrors.length > 0) return error.graphQLErrors.map((e) => e.message).join('; ')
  return error.networkError ? `The API could not be reached: ${error.networkError.message}` : 'The command failed.'
}

/**
 * Promote (a step or fully), pause, resume, roll back, abort: each asks for confirmation
 * (and a reason where the API takes one), is disabled with the reason when illegal in the
 * current status, and is not shown at all to read-only tokens.
 */
export function RolloutControls({ rollout, scope, now }: { rollout: RolloutControlsFragment; scope: TokenScope | null; now: number }) {
  const [pending, setPending] = useState<Control | null>(null)
  const [reason, setReason] = useState('')
  const [sent, setSent] = useState<{ label: string; status: string } | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [, promote] = useMutation(Promote)
  const [, pause] = useMutation(Pause)
  const [, resume] = useMutation(Resume)
  const [, rollback] = useMutation(Rollback)
  const [, abort] = useMutation(Abort)
  const [busy, setBusy] = useState(false)
  const dialogId = useId()
  const reasonRef = useRef<HTMLTextAreaElement>(null)
  const confirmRef = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (!pending) return
    if (pending.takesReason) reasonRef.current?.focus()
    else confirmRef.current?.focus()
  }, [pending])
  // The acknowledgement stays until the controller has moved the rollout on.
  useEffect(() => {
    if (sent && sent.status !== rollout.status) setSent(null)
  }, [rollout.status, sent])

  if (!canOperate(scope)) return null
  if (CONTROLS.every((control) => commandRefusal(control.kind, rollout.status) !== null)) {
    return (
      <p className="muted small controls-none" data-testid="controls-finished">
        This rollout is finished ({statusLabel(rollout.status).toLowerCase()}): no command applies any more.
      </p>
    )
  }

  async function confirm(event: FormEvent) {
    event.preventDefault()
    if (!pending) return
    setBusy(true)
    setFailure(null)
    const id = rollout.id
    const why = reason.trim() === '' ? null : reason.trim()
    const context = { additionalTypenames: ['Rollout'] }
    const result =
      pending.kind === 'PROMOTE'
        ? await promote({ id, full: pending.full }, context)
        : pending.kind === 'PAUSE'
          ? await pause({ id, reason: why }, context)
          : pending.kind === 'RESUME'
            ? await resume({ id }, context)
            : pending.kind === 'ROLLBACK'
              ? await rollback({ id, reason: why }, context)
              : await abort({ id, reason: why }, context)
    setBusy(false)
    if (result.error) {
      setFailure(errorText(result.error))
      return
    }
    setSent({ label: pending.label, status: rollout.status })
    setPending(null)
    setReason('')
  }

  const recent = rollout.commands.slice(-5).reverse()
  return (
    <section className="controls" aria-label="Controls">
      <div className="controls-buttons" role="group" aria-label="Rollout commands">
        {CONTROLS.map((control) => {
          const refusal = commandRefusal(control.kind, rollout.status)
          const describedBy = `${dialogId}-${control.id}`
          return (
            <span key={control.id} className="control">
              <button
                type="button"
                className={`button${control.danger ? ' button-danger' : ''}`}
                disabled={refusal !== null || busy}
                aria-describedby={describedBy}
                aria-expanded={pending?.id === control.id}
                aria-controls={`${dialogId}-confirm`}
                data-control={control.id}
                title={refusal ?? control.explain}
                onClick={() => {
                  setFailure(null)
                  setReason('')
                  setPending(control)
                }}
              >
                {control.label}
              </button>
              <span id={describedBy} className="visually-hidden">
                {refusal ?? control.explain}
              </span>
            </span>
          )
        })}
      </div>
      {pending ? (
        <form
          id={`${dialogId}-confirm`}
          className={`confirm${pending.danger ? ' confirm-danger' : ''}`}
          onSubmit={confirm}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setPending(null)
          }}
          aria-label={`Confirm: ${pending.label}`}
        >
          <p>
            <strong>{pending.label}?</strong> {pending.explain}
          </p>
          {pending.takesReason ? (
            <label className="field">
              <span>Reason (recorded in the timeline)</span>
              <textarea
                ref={reasonRef}
                name="reason"
                rows={2}
                maxLength={1000}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                placeholder="e.g. investigating the latency graph"
              />
            </label>
          ) : null}
          <div className="confirm-actions">
            <button ref={confirmRef} type="submit" className={`button button-primary${pending.danger ? ' button-danger' : ''}`} disabled={busy} data-confirm={pending.id}>
              {busy ? 'Sending…' : `Confirm: ${pending.label}`}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setPending(null)} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      <div aria-live="polite" className="controls-status">
        {failure ? (
          <p className="notice notice-bad" role="alert">
            {failure}
          </p>
        ) : null}
        {sent ? (
          <p className="notice">
            {sent.label} sent; waiting for the controller to apply it (rollout is {statusLabel(rollout.status).toLowerCase()}).
          </p>
        ) : null}
      </div>
      {recent.length > 0 ? (
        <details className="commands">
          <summary className="small">Recent commands ({rollout.commands.length})</summary>
          <ul className="small">
            {recent.map((c) => (
              <li key={c.id}>
                <strong>{statusLabel(c.kind)}</strong>
                {c.full ? ' (fully)' : ''} by {c.actor} {formatAgo(c.createdAt, now)}
                {c.reason ? `: “${c.reason}”` : ''} — <span className="muted">{c.outcome ?? 'waiting for the controller'}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  )
}
