// `node compile-child.js <registry file>`: compiles a registry in a process of its
// own and prints the Compilation as JSON on stdout. loadRegistry() runs it
// synchronously where this Node cannot require the ES-module compiler in-process
// (before 20.19), so a stale compiled form is still rebuilt at load.
import type { CompilationJson } from './compiled-registry.js'
import { compileRegistry } from './registry-compiler.js'

const source = process.argv[2]
if (source !== undefined) {
  const { codes, ...rest } = compileRegistry(source)
  const json: CompilationJson = { ...rest, codes: [...codes] }
  process.stdout.write(JSON.stringify(json))
}
