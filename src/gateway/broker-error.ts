// A broker call that failed without saying why in our terms (a socket error, a
// Redis timeout) is the broker being unavailable: 503, never a bare 500.
import { SwitchyardError } from '../control/index.js'
import type { Broker } from '../data/broker/index.js'

export function brokerError(broker: Broker, error: unknown): SwitchyardError {
  if (error instanceof SwitchyardError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new SwitchyardError('BROKER_UNAVAILABLE', `the ${broker.kind} broker failed: ${message}`, { cause: error, retryable: true })
}
