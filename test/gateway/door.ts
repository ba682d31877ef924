// A real broker behind a door: a proxy around it that records the order in which
// submissions reach it and holds chosen ones (by their input's text) until the test lets
// them through. With it a test holds a flow's places at the gateway for as long as it
// likes, and counts fair admission's dispatches (test/gateway/fair-admission.test.ts) or
// makes the gateway shed a burst (test/client/retry.test.ts) without timing anything.
import type { Broker } from '../../src/data/broker/index.js'
import type { Envelope } from '../../src/data/index.js'

export interface Door {
  /** Labels (the run's input text) in the order their submissions reached the broker. */
  readonly order: string[]
  /** Submissions held at the door, oldest first. */
  readonly held: Array<() => void>
  /** Let every held submission through, and every later one. */
  open(): void
}

/** The real broker behind a door that holds submissions whose input text `hold` picks. */
export function behindDoor(broker: Broker, hold: (text: string) => boolean): { broker: Broker; door: Door } {
  let opened = false
  const door: Door = {
    order: [],
    held: [],
    open() {
      opened = true
      for (const go of door.held.splice(0)) go()
    },
  }
  const submit: Broker['submit'] = async (envelope: Envelope, options) => {
    const text = String((envelope.input as { text?: unknown } | null)?.text ?? '')
    door.order.push(text)
    if (!opened && hold(text)) await new Promise<void>((resolve) => door.held.push(resolve))
    return broker.submit(envelope, options)
  }
  const proxy = new Proxy(broker, {
    get(target, property) {
      if (property === 'submit') return submit
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  return { broker: proxy, door }
}
