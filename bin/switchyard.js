#!/usr/bin/env node
// The CLI entry: everything lives in the compiled dist/cli/main.js.
import { main } from '../dist/cli/main.js'

main(process.argv.slice(2))
