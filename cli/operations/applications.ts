import { graphql } from '../gql/index.ts'

/** A page of applications, each with its latest rollout (`sentra apps`). */
export const ApplicationsQuery = graphql(`
  query CliApplications($first: Int, $after: String) {
    applications(first: $first, after: $after) {
      edges {
        node {
          id
          name
          stableVersion
          spec
          createdAt
          updatedAt
          rollouts(first: 1) {
            edges {
              node {
                id
                toVersion
                status
                canaryWeight
              }
            }
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

/** Creates or updates an application from its spec, sent as the file's text (`sentra apply -f`). */
export const ApplyApplicationMutation = graphql(`
  mutation CliApplyApplication($spec: JSON!) {
    applyApplication(spec: $spec) {
      id
      name
      stableVersion
      createdAt
      updatedAt
    }
  }
`)
