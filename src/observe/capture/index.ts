// What a pool's `capture` policy lets into a span: full, redacted (e-mail addresses,
// phone numbers and configured keys masked) or none, bounded in size.
export { captureValue, redactValue, redactText, MASK } from './capture.js'
