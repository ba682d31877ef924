// How the operator's process writes and removes files in `.switchyard/`, a folder others may
// write (a pool's graph in `dev`; a pool's OS user, if given write access). What they plant
// there must never steer where the operator's process (`check`, `start` as root) writes or
// deletes (review 3, SECURITY.md row 3):
//   - the cache's own sub-folders are lstat'd, never followed: a symlink (or anything but a
//     folder) there is removed (the link, not its target), refused and made again as a folder;
//   - a file is written under a random temp name created exclusively (never through a file or
//     symlink planted there), then renamed over its name (which replaces a link, never writes through it);
//   - old files are removed only when they are regular files named as the cache names its own.
// `.switchyard` itself is followed: it is an entry of the registry's own folder, so whoever can
// replace it can replace the registry file too, and an operator may point it at another volume.
import type * as Fs from 'node:fs'
import { join } from 'node:path'
import { refuse } from './cache-trust.js'
import { builtin, randomHex } from './node-builtins.js'

const { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } = builtin<typeof Fs>('node:fs')

/** Schema tables and hash lists of older registry versions are removed once this old. */
const KEPT_MS = 24 * 3_600_000

/** Makes `path` (a sub-folder of `.switchyard`, which is made if absent) a real folder of its own. */
export function cacheFolder(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false })
  if (stat?.isDirectory()) return
  if (stat) {
    refuse('folder', path)
    unlinkSync(path)
  }
  mkdirSync(path, { recursive: true })
  // Replaced again meanwhile: nothing is written through it.
  if (!lstatSync(path).isDirectory()) throw new Error(`${path} is not a folder`)
}

/** Readers never see half a file: written beside it under a name nobody can guess or plant, then renamed over it. */
export function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${randomHex(8)}.tmp`
  writeFileSync(temp, text, { flag: 'wx' })
  try {
    renameSync(temp, file)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

/**
 * Removes from the cache folder `dir` the files of older registry versions (named `<hex
 * id>.json`, or a temp file of one) once they are KEPT_MS old: a process may still be loading one.
 */
export function removeOld(dir: string, keep: string, idLength: number): void {
  // Swapped for a link since cacheFolder(): not followed, swept next time.
  if (!lstatSync(dir).isDirectory()) return
  const own = new RegExp(`^[0-9a-f]{${idLength}}\\.json(\\.[0-9a-f]+\\.tmp)?$`)
  const cutoff = Date.now() - KEPT_MS
  for (const name of readdirSync(dir)) {
    if (name === keep || !own.test(name)) continue
    const file = join(dir, name)
    const stat = lstatSync(file, { throwIfNoEntry: false })
    if (stat?.isFile() && stat.mtimeMs < cutoff) unlinkSync(file)
  }
}
