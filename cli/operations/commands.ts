import { graphql } from '../gql/index.ts'

/**
 * The rollout commands. Each mutation records the command and returns the rollout as it is
 * now; the controller applies the command on its next tick.
 */
export const RolloutSummaryFragment = graphql(`
  fragment CliRolloutSummary on Rollout {
    id
    applicationName
    fromVersion
    toVersion
    status
    canaryWeight
    currentStepIndex
  }
`)

export const StartRolloutMutation = graphql(`
  mutation CliStartRollout($application: String!, $version: String!) {
    startRollout(application: $application, version: $version) {
      ...CliRolloutSummary
    }
  }
`)

export const PromoteRolloutMutation = graphql(`
  mutation CliPromoteRollout($id: ID!, $full: Boolean) {
    promoteRollout(id: $id, full: $full) {
      ...CliRolloutSummary
    }
  }
`)

export const PauseRolloutMutation = graphql(`
  mutation CliPauseRollout($id: ID!, $reason: String) {
    pauseRollout(id: $id, reason: $reason) {
      ...CliRolloutSummary
    }
  }
`)

export const ResumeRolloutMutation = graphql(`
  mutation CliResumeRollout($id: ID!) {
    resumeRollout(id: $id) {
      ...CliRolloutSummary
    }
  }
`)

export const RollbackRolloutMutation = graphql(`
  mutation CliRollbackRollout($id: ID!, $reason: String) {
    rollbackRollout(id: $id, reason: $reason) {
      ...CliRolloutSummary
    }
  }
`)

export const AbortRolloutMutation = graphql(`
  mutation CliAbortRollout($id: ID!, $reason: String) {
    abortRollout(id: $id, reason: $reason) {
      ...CliRolloutSummary
    }
  }
`)
