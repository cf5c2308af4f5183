import { graphql } from '../gql/index.ts'

/** Who a token is: `sentra login` checks the token with it before saving anything. */
export const ViewerQuery = graphql(`
  query CliViewer {
    viewer {
      name
      scope
    }
  }
`)
