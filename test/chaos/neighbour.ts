// The neighbour's clients, in a process of their own: the steady traffic (clients.ts
// steadyTraffic) measured where a real neighbour's callers sit, so a burst the suite's
// own faulty clients make (a flood of 500 requests) does not slow the measuring process
// and show up as the gateway's latency. Forked by suite.ts; over IPC: it says
// { ready: true }, sends until it gets 'stop', then answers with the result and exits.
import { steadyTraffic } from './clients.js'

const [url = '', everyMs = '50', workflow = 'neighbour.echo'] = process.argv.slice(2)
const traffic = steadyTraffic(url, { everyMs: Number(everyMs), workflow, budgetMs: 120_000 })
process.on('message', (message) => {
  if (message !== 'stop') return
  void traffic.stop().then((result) => {
    process.send?.(result, () => process.exit(0))
  })
})
process.send?.({ ready: true })
