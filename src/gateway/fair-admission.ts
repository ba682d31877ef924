// Fair admission of run submissions at the gateway's one event loop, in the manner of
// Kubernetes API Priority and Fairness: each request belongs to a flow (its caller and
// the pool it targets, both known from the token and the path before the body is read);
// at most `perFlow` requests of a flow, and `concurrency` of all flows together, are in
// the CPU-bound part of a submission at once (body, route(), signature, spans, the
// broker's admission); the rest wait in their flow's queue, and a freed place goes to
// the next flow in turn (round robin), so a request waits for at most one dispatch per
// other flow with requests waiting. A flow whose queue is full is refused at once,
// before anything is read or sent to the broker. Without it a flood of 500 submissions
// to one pool all ran their admission together, and a neighbour's request queued behind
// every one of them on the loop (RELIABILITY.md, "What keeps a faulty pool off its neighbour").

/** What an operator may set (GatewayOptions.admission, or SWITCHYARD_GATEWAY_* in the CLI). */
export interface AdmissionOptions {
  /** Submissions being admitted at once, all flows together. @default 64 */
  readonly concurrency?: number
  /** Submissions of one flow (caller and pool) being admitted at once. @default 8 */
  readonly perFlow?: number
  /** Submissions of one flow waiting for a place; one more is refused 429. @default 64 */
  readonly queuePerFlow?: number
}

export interface AdmissionLimits {
  readonly concurrency: number
  readonly perFlow: number
  readonly queuePerFlow: number
}

export const DEFAULT_ADMISSION: AdmissionLimits = { concurrency: 64, perFlow: 8, queuePerFlow: 64 }

/** A place in the admission part: release it once the broker has the run (or refused it). Releasing twice is harmless. */
export interface Slot {
  release(): void
}

interface Waiter {
  readonly grant: (slot: Slot) => void
}

interface Flow {
  readonly key: string
  inFlight: number
  readonly waiting: Waiter[]
  /** In the round-robin ring (it has waiters and may be dispatched when a place frees). */
  ringed: boolean
}

/** How the scheduler answers an arriving request. */
export type Admission =
  | { readonly kind: 'admitted'; readonly slot: Slot }
  | { readonly kind: 'queued'; readonly slot: Promise<Slot>; readonly cancel: (reason: Error) => void }
  | { readonly kind: 'refused'; readonly waiting: number }

export function resolveAdmissionLimits(options: AdmissionOptions = {}): AdmissionLimits {
  const limits = { ...DEFAULT_ADMISSION, ...definedOnly(options) }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < (name === 'queuePerFlow' ? 0 : 1)) {
      throw new RangeError(`admission ${name} must be a ${name === 'queuePerFlow' ? 'non-negative' : 'positive'} integer, got ${value}`)
    }
  }
  if (limits.perFlow > limits.concurrency) {
    throw new RangeError(`admission perFlow (${limits.perFlow}) must not exceed concurrency (${limits.concurrency})`)
  }
  return limits
}

export class FairAdmission {
  private inFlight = 0
  private readonly flows = new Map<string, Flow>()
  /** Flows with waiters, in the order they get the next free place. */
  private readonly ring: Flow[] = []

  constructor(readonly limits: AdmissionLimits = DEFAULT_ADMISSION) {}

  /**
   * Ask for a place for a request of `flow`: a place at once, a wait in the flow's queue
   * (`cancel()` it when the caller leaves: the turn goes to the next), or a refusal.
   */
  admit(flowKey: string): Admission {
    const flow = this.flow(flowKey)
    if (flow.waiting.length === 0 && flow.inFlight < this.limits.perFlow && this.inFlight < this.limits.concurrency) {
      return { kind: 'admitted', slot: this.take(flow) }
    }
    if (flow.waiting.length >= this.limits.queuePerFlow) {
      this.forget(flow)
      return { kind: 'refused', waiting: flow.waiting.length }
    }
    let cancel: (reason: Error) => void = () => undefined
    const slot = new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { grant: resolve }
      cancel = (reason) => {
        const at = flow.waiting.indexOf(waiter)
        if (at < 0) return
        flow.waiting.splice(at, 1)
        reject(reason)
        this.forget(flow)
      }
      flow.waiting.push(waiter)
      this.ringIn(flow)
    })
    // The flow may have waiters only because others are at their bound: one may be dispatchable now.
    this.pump()
    return { kind: 'queued', slot, cancel: (reason) => cancel(reason) }
  }

  /**
   * How many of `flow`'s requests wait when its queue is full (a request now would be
   * refused), else undefined: a look that changes nothing, for refusing before the body.
   */
  queueFull(flowKey: string): number | undefined {
    const flow = this.flows.get(flowKey)
    const waiting = flow?.waiting.length ?? 0
    // A place free now is no refusal, whatever the queue's length (with queuePerFlow 0 every request was refused).
    if (waiting === 0 && (flow?.inFlight ?? 0) < this.limits.perFlow && this.inFlight < this.limits.concurrency) return undefined
    return waiting >= this.limits.queuePerFlow ? waiting : undefined
  }

  /** Requests waiting, all flows together (a gauge). */
  waiting(): number {
    let n = 0
    for (const flow of this.flows.values()) n += flow.waiting.length
    return n
  }

  /** Requests holding a place now (a gauge). */
  admitting(): number {
    return this.inFlight
  }

  private flow(key: string): Flow {
    let flow = this.flows.get(key)
    if (flow === undefined) {
      flow = { key, inFlight: 0, waiting: [], ringed: false }
      this.flows.set(key, flow)
    }
    return flow
  }

  private take(flow: Flow): Slot {
    flow.inFlight++
    this.inFlight++
    let held = true
    return {
      release: () => {
        if (!held) return
        held = false
        flow.inFlight--
        this.inFlight--
        if (flow.waiting.length > 0) this.ringIn(flow)
        this.pump()
        this.forget(flow)
      },
    }
  }

  private ringIn(flow: Flow): void {
    if (flow.ringed) return
    flow.ringed = true
    this.ring.push(flow)
  }

  /** Give free places to waiting flows in turn, one request per flow per turn. */
  private pump(): void {
    let skipped = 0
    while (this.inFlight < this.limits.concurrency && this.ring.length > skipped) {
      const flow = this.ring.shift() as Flow
      flow.ringed = false
      if (flow.waiting.length === 0) continue
      if (flow.inFlight >= this.limits.perFlow) {
        // At its own bound: back in the ring, where its next release finds it.
        this.ringIn(flow)
        skipped++
        continue
      }
      skipped = 0
      const waiter = flow.waiting.shift() as Waiter
      if (flow.waiting.length > 0) this.ringIn(flow)
      waiter.grant(this.take(flow))
    }
  }

  private forget(flow: Flow): void {
    if (flow.inFlight === 0 && flow.waiting.length === 0 && !flow.ringed) this.flows.delete(flow.key)
  }
}

function definedOnly(options: AdmissionOptions): Partial<AdmissionLimits> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<AdmissionLimits>
}

/** The env variables the CLI reads into AdmissionOptions. */
export const ADMISSION_ENV = {
  concurrency: 'SWITCHYARD_GATEWAY_ADMISSION_CONCURRENCY',
  perFlow: 'SWITCHYARD_GATEWAY_ADMISSION_PER_FLOW',
  queuePerFlow: 'SWITCHYARD_GATEWAY_ADMISSION_QUEUE',
} as const

/** AdmissionOptions from the environment; a malformed or inconsistent value throws naming its variable. */
export function admissionOptionsFromEnv(env: NodeJS.ProcessEnv): AdmissionOptions {
  const options: { -readonly [K in keyof AdmissionOptions]: number } = {}
  for (const key of ['concurrency', 'perFlow', 'queuePerFlow'] as const) {
    const text = env[ADMISSION_ENV[key]]?.trim()
    if (!text) continue
    const least = key === 'queuePerFlow' ? 0 : 1
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < least) {
      throw new RangeError(`${ADMISSION_ENV[key]} must be an integer of at least ${least}, got '${text}'`)
    }
    options[key] = Number(text)
  }
  try {
    resolveAdmissionLimits(options)
  } catch (error) {
    throw new RangeError(`${ADMISSION_ENV.perFlow} must not exceed ${ADMISSION_ENV.concurrency}: ${(error as Error).message}`)
  }
  return options
}
