import { graphql } from '../gql/index.ts'

/**
 * `sentra audit verify`: the server recomputes the decision log's hash chains (admin only),
 * a bounded part per call; the CLI calls again with `after: next` until `next` is null.
 */
export const AuditVerifyQuery = graphql(`
  query CliAuditVerify($rollout: ID, $after: String, $limit: Int) {
    auditVerify(rollout: $rollout, after: $after, limit: $limit) {
      ok
      rolloutsChecked
      decisionsChecked
      brokenRollouts
      firstBroken {
        rolloutId
        chainSeq
        decisionId
        problem
        expected
        actual
        message
      }
      head {
        rolloutId
        chainSeq
        decisionId
        hash
      }
      next
    }
  }
`)
