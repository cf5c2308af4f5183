import { graphql } from '../gql/index.ts'

/** What `sentra rollouts` lists: each rollout with its current step and last decision. */
export const RolloutsQuery = graphql(`
  query CliRollouts($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {
    rollouts(first: $first, after: $after, application: $application, status: $status) {
      edges {
        node {
          id
          applicationName
          fromVersion
          toVersion
          status
          canaryWeight
          currentStepIndex
          createdAt
          startedAt
          finishedAt
          steps {
            index
          }
          lastDecision {
            at
            action
            actor
            reason
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`)

/** Everything `sentra get` and `sentra watch` show of one rollout. */
export const RolloutDetailFragment = graphql(`
  fragment CliRolloutDetail on Rollout {
    id
    applicationName
    fromVersion
    toVersion
    status
    canaryWeight
    desiredWeight
    currentStepIndex
    seq
    createdAt
    startedAt
    stepStartedAt
    finishedAt
    steps {
      index
      kind
      status
      setWeight
      analyzeMin
      analyzeMax
      pauseDuration
      startedAt
      finishedAt
    }
    gates {
      name
      signal
      provider
      query
      dryRun
      judge
      lastResult {
        at
        verdict
        value
        reason
      }
    }
    decisions(last: 50) {
      seq
      at
      action
      actor
      reason
      stepIndex
      fromWeight
      toWeight
    }
  }
`)

export const RolloutQuery = graphql(`
  query CliRollout($id: ID!) {
    rollout(id: $id) {
      ...CliRolloutDetail
    }
  }
`)

/** The rollout now, then after every change (`sentra watch`). */
export const RolloutChangedSubscription = graphql(`
  subscription CliRolloutChanged($id: ID!) {
    rolloutChanged(id: $id) {
      ...CliRolloutDetail
    }
  }
`)
