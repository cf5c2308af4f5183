import type { CodegenConfig } from '@graphql-codegen/cli'

/**
 * Typed documents for web/ from the printed schema. The generated folder web/gql/ is
 * never edited by hand: run `npm run codegen` after changing a document or the schema.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['web/**/*.{ts,tsx}', '!web/gql/**'],
  ignoreNoDocuments: false,
  // ESM with explicit .js extensions, as NodeNext resolution wants.
  emitLegacyCommonJSImports: false,
  generates: {
    'web/gql/': {
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', JSON: 'unknown' } },
      presetConfig: { fragmentMasking: false },
    },
  },
}

export default config
