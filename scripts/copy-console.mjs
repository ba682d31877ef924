// Part of `npm run build`: the console's page, modules and stylesheet (plain files, no
// bundler) beside the compiled gateway code, where src/observe/view/console-routes.ts reads them.
import { cpSync, rmSync } from 'node:fs'

const from = new URL('../src/observe/view/console/', import.meta.url)
const to = new URL('../dist/observe/view/console/', import.meta.url)
rmSync(to, { recursive: true, force: true })
cpSync(from, to, { recursive: true })
