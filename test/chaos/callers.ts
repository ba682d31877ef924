// The faulty pool's callers, in a process of their own at a lower CPU priority: in
// production they sit on other machines, so a flood's own client work (hundreds of
// requests and retries a second) must not take this machine's cores from the gateway,
// Redis and the neighbour and be counted as the platform's latency. Forked once per
// scenario by suite.ts (a fault that repeats its batch reuses it: a fork with tsx costs
// half a second of CPU, in the window being measured); gets batches of submissions over
// IPC, one at a time, and answers each with what each client finally got; 'done' ends it.
import { submit, type Submission, type SubmitOptions } from './clients.js'

export interface CallerBatch {
  readonly url: string
  readonly workflow: string
  readonly calls: ReadonlyArray<{ readonly input: unknown; readonly options: SubmitOptions }>
  /** Spread the calls over this long; 0 sends them all at once. */
  readonly spreadMs: number
}

process.on('message', (message: CallerBatch | 'done') => {
  if (message === 'done') {
    process.disconnect()
    return
  }
  void (async () => {
    const answers: Promise<Submission>[] = []
    for (const call of message.calls) {
      answers.push(submit(message.url, message.workflow, call.input, call.options))
      if (message.spreadMs > 0 && message.calls.length > 1)
        await new Promise((resolve) => setTimeout(resolve, message.spreadMs / message.calls.length))
    }
    process.send?.(await Promise.all(answers))
  })()
})
process.send?.({ ready: true })
