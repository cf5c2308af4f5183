import { graphql } from '../gql/index.ts'

/** The rollout list a dashboard or script starts from: each rollout with its current step and last decision. */
export const RolloutListQuery = graphql(`
  query RolloutList($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {
    rollouts(first: $first, after: $after, application: $application, status: $status) {
      edges {
        cursor
        node {
          id
          applicationName
          fromVersion
          toVersion
          status
          canaryWeight
          currentStepIndex
          startedAt
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
