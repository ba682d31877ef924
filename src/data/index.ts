// The data plane's contract (DESIGN §2.4, §4): the broker seam, the run envelope and
// the errors both sides of the broker share. Light: no queue client, no SDK.
// The implementations have front doors of their own, so a process loads only what it runs:
//   ./broker/memory (embedded broker and its IPC transport) · ./broker/redis (BullMQ)
//   ./worker (the pool worker) · ./supervisor (dev/start process manager)
export type {
  Broker,
  Delivery,
  Outcome,
  PoolStats,
  RunError,
  RunHandler,
  RunRecord,
  RunSource,
  RunStatus,
  SubmitOptions,
  SubmitResult,
  WaitOptions,
} from './broker/index.js'
export { PoolSaturatedError, PoolUnavailableError } from './broker/index.js'
export {
  canonicalEnvelope,
  createEnvelope,
  envelopeDeadlineMs,
  envelopeTraceId,
  idempotencyFingerprint,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type CreateEnvelopeOptions,
  type Envelope,
  type TraceCarrier,
} from './envelope.js'
export {
  SIGNING_KEY_FILE_ENV,
  VERIFY_KEYS_ENV,
  generateSigningKey,
  keyIdOf,
  parseVerifyKeys,
  readSigningKeyFile,
  signingKeyFromPem,
  signingKeyPem,
  verifyKeysFor,
  writeSigningKeyFile,
  type SigningKey,
  type VerifyKeys,
} from './envelope-keys.js'
