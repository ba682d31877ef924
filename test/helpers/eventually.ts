// Bounded polling for tests that wait on other processes (workers, exporters).

/** What `check` may return: a value ends the wait, undefined or false polls again. */
export type Check<T> = () => T | undefined | false | Promise<T | undefined | false>

/** Poll `check` every 50 ms until it returns a value (not undefined/false); fail naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: Check<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
