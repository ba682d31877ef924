// The data plane's front door for what travels on the broker (DESIGN §2.4): the run
// envelope. Light: no queue client, no SDK. The rest has front doors of its own, so a
// process loads only what it runs: ./broker (the seam both adapters implement and its
// errors) · ./broker/memory (embedded broker and its IPC transport) · ./broker/redis
// (BullMQ) · ./worker (the pool worker) · ./supervisor (dev/start process manager)
export {
  canonicalEnvelope,
  createEnvelope,
  envelopeTraceId,
  idempotencyFingerprint,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type TraceCarrier,
} from './envelope.js'
export {
  SIGNING_KEY_FILE_ENV,
  VERIFY_KEYS_ENV,
  generateSigningKey,
  parseVerifyKeys,
  readSigningKeyFile,
  signingKeyFromPem,
  signingKeyPem,
  verifyKeysFor,
  writeSigningKeyFile,
  type SigningKey,
  type VerifyKeys,
} from './envelope-keys.js'
