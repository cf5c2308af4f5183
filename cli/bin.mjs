#!/usr/bin/env node
// The `sentra` executable (package.json "bin"): registers tsx's loader in this process, then
// runs the TypeScript entry, so `npx sentra …` works from a clone after `npm install`.
import { register } from 'tsx/esm/api'

register()
await import('./sentra.ts')
