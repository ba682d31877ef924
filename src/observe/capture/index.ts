// What a pool's `capture` policy lets into a span: full, redacted (e-mail addresses,
// phone numbers and configured keys masked) or none, bounded in size; and the pool's
// secrets, scrubbed from every span, log line and run error whatever the policy.
export { captureValue, redactValue, redactRecorded, redactText, MASK } from './capture.js'
export { secretNames, secretScrubber, type Scrub } from './secrets.js'
