// The chaos suite's short form, in every test run: real processes (`switchyard start`,
// its worker processes, redis-server with AOF), real faults (a graph that throws,
// busy-loops or exits; kill -9 of a worker, of Redis, of the gateway, of start), real clients
// retrying. What must hold under each: no accepted run is lost, no submission runs
// twice, each run ends with the code its fault must give (suite.ts Ending), the neighbour
// pool has no failure, and the faulty pool serves again by itself.
// Latency is reported by `npm run chaos` and bench/neighbour, never asserted here.
// The full suite: `npm run chaos` (RELIABILITY.md).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { redisSkip } from '../helpers/redis.js'
import { startRig } from './rig.js'
import { SHORT, endingProblems, formatRowLine, runSuite } from './suite.js'

const skip = redisSkip()

void test(
  'chaos (short): 0 accepted runs lost, 0 executed twice, each run ends as its fault must, the neighbour never fails, the faulty pool recovers',
  { skip, timeout: 300_000 },
  async () => {
    const rig = await startRig()
    try {
      const rows = await runSuite(rig, SHORT)
      const report = rows.map(formatRowLine).join('\n')
      assert.deepEqual([...new Set(rows.map((r) => r.scenario))], SHORT.only, report)
      for (const row of rows) {
        const what = `${row.scenario}${row.keyed ? '' : ' (no key)'}\n${report}`
        assert.ok(row.accepted > 0, `nothing accepted: ${what}`)
        assert.equal(row.lost, 0, `accepted runs lost: ${what}`)
        assert.equal(row.executedTwice, 0, `executed twice: ${what}`)
        assert.equal(row.withFault.failures + row.baseline.failures, 0, `neighbour failures: ${what}`)
        assert.ok(row.recoveredMs !== null, `the faulty pool did not serve again: ${what}`)
        // A client with a key retries until its run is accepted: a fault never costs it the run.
        if (row.keyed) assert.equal(row.accepted, row.submitted, `keyed submissions not accepted: ${what}`)
      }
      // How each fault's runs end (suite.ts Ending): the graph's own error; a crash said as
      // such (never DEADLINE_EXCEEDED for a run whose worker died under it, WORKER_CRASHED
      // after MAX_CRASHES); every run of a process fault succeeds, a killed one retried.
      const problems = rows.flatMap(endingProblems)
      assert.deepEqual(problems, [], `${problems.join('\n')}\n${report}`)
    } catch (error) {
      console.error(rig.log().slice(-24_000))
      throw error
    } finally {
      await rig.close()
    }
  },
)
