import type { CodegenConfig } from '@graphql-codegen/cli'
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset'

/**
 * Typed documents from the printed schema: for web/ (into web/gql/) and for the `sentra`
 * CLI (into cli/gql/, as plain strings: the CLI sends them with fetch and graphql-ws, no
 * GraphQL client library). The generated folders are never edited by hand: run
 * `npm run codegen` after changing a document or the schema.
 */
const scalars = { DateTime: 'string', JSON: 'unknown' }
/**
 * Every operation also goes into `<folder>/persisted-documents.json` (sha256 of the
 * normalized document → the document), and each generated document carries its hash in
 * `__meta__.hash`: the clients send the hash instead of the text, and the server
 * (server/persisted.ts) resolves it from these committed manifests.
 */
const persistedDocuments = { hashAlgorithm: 'sha256' } as const

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
      presetConfig: { fragmentMasking: false, persistedDocuments },
      // urql's document cache adds __typename to what it sends (to know what a mutation
      // changed); a persisted document is run as written, so it must ask for them itself.
      documentTransforms: [addTypenameSelectionDocumentTransform],
    },
    'cli/gql/': {
      documents: ['cli/**/*.ts', '!cli/gql/**'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, documentMode: 'string', scalars },
      presetConfig: { fragmentMasking: false, persistedDocuments },
    },
  },
}

export default config
