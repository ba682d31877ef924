// Python workers started by hand, each its pool's only worker, kill -9'd and reaped by
// `switchyard gateway` (the cases: fixtures/reaper-cases.ts).
import { reaperCases } from './fixtures/reaper-cases.js'

reaperCases('python')
