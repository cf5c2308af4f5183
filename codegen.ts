import type { CodegenConfig } from '@graphql-codegen/cli'

/**
 * Typed documents from the printed schema: for web/ (into web/gql/) and for the `sentra`
 * CLI (into cli/gql/, as plain strings: the CLI sends them with fetch and graphql-ws, no
 * GraphQL client library). The generated folders are never edited by hand: run
 * `npm run codegen` after changing a document or the schema.
 */
const scalars = { DateTime: 'string', JSON: 'unknown' }

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  // ESM with explicit .js extensions, as NodeNext resolution wants.
  emitLegacyCommonJSImports: false,
  generates: {
    'web/gql/': {
      documents: ['web/**/*.{ts,tsx}', '!web/gql/**'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, scalars },
      presetConfig: { fragmentMasking: false },
    },
    'cli/gql/': {
      documents: ['cli/**/*.ts', '!cli/gql/**'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, documentMode: 'string', scalars },
      presetConfig: { fragmentMasking: false },
    },
  },
}

export default config
