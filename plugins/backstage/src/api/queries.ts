/**
 * The GraphQL documents the plugin sends, written against Sentra's printed schema
 * (schema/schema.graphql at the root of the Sentra repository). Plain strings: the plugin
 * has no GraphQL client library, and the response is validated in parse.ts.
 *
 * One round trip per card: the application (null when there is no such application), the
 * active rollout (an application has at most one) and the latest ones, newest first.
 */

const ROLLOUT_FIELDS = /* GraphQL */ `
  fragment SentraCardRollout on Rollout {
    id
    status
    canaryWeight
    fromVersion
    toVersion
    createdAt
    startedAt
    finishedAt
    currentStepIndex
    steps {
      index
      kind
      status
      setWeight
    }
    lastDecision {
      action
      reason
      at
      actor
    }
  }
`

export const APPLICATION_ROLLOUTS_QUERY = /* GraphQL */ `
  query SentraCardApplicationRollouts($application: String!, $recent: Int!) {
    application(name: $application) {
      name
      stableVersion
    }
    active: rollouts(application: $application, first: 1, status: [PENDING, PROGRESSING, PAUSED, ROLLING_BACK]) {
      edges {
        node {
          ...SentraCardRollout
        }
      }
    }
    recent: rollouts(application: $application, first: $recent) {
      edges {
        node {
          ...SentraCardRollout
        }
      }
    }
  }
  ${ROLLOUT_FIELDS}
`

export interface ApplicationRolloutsVariables {
  application: string
  /** 1..100 (the server's page limit). */
  recent: number
}
