// The faulty pool's callers, in a process of their own at a lower CPU priority: in
// production they sit on other machines, so a flood's own client work (hundreds of
// requests and retries a second) must not take this machine's cores from the gateway,
// Redis and the neighbour and be counted as the platform's latency. Forked by suite.ts;
// gets one batch of submissions over IPC, answers with what each client finally got.
import { submit, type Submission, type SubmitOptions } from './clients.js'

export interface CallerBatch {
  readonly url: string
  readonly workflow: string
  readonly calls: ReadonlyArray<{ readonly input: unknown; readonly options: SubmitOptions }>
  /** Spread the calls over this long; 0 sends them all at once. */
  readonly spreadMs: number
}

process.once('message', (batch: CallerBatch) => {
  void (async () => {
    const answers: Promise<Submission>[] = []
    for (const call of batch.calls) {
      answers.push(submit(batch.url, batch.workflow, call.input, call.options))
      if (batch.spreadMs > 0 && batch.calls.length > 1)
        await new Promise((resolve) => setTimeout(resolve, batch.spreadMs / batch.calls.length))
    }
    process.send?.(await Promise.all(answers), () => process.exit(0))
  })()
})
process.send?.({ ready: true })
