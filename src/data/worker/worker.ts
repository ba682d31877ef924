// The pool worker: serves exactly one pool from a RunSource (memory, IPC or BullMQ).
// Per delivery: verify the envelope → check it belongs here → load the graph lazily →
// run it with a deadline, inside a CONSUMER span continuing the caller's trace → an
// Outcome the broker settles (ack, retry with backoff, dead-letter).
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, propagation, trace, type Span } from '@opentelemetry/api'
import { ATTR, SwitchyardError } from '../../control/index.js'
import type { EnvelopeRejectReason, Pool, Registry, Workflow } from '../../control/index.js'
import { createModel } from '../../graph/index.js'
import { captureValue, redactText, redactValue, secretScrubber } from '../../observe/capture/index.js'
import type { Logger, ModelClient, RunContext } from '../../graph/index.js'
import { envelopeDeadlineMs, prepareEnvelopeCheck, verifyEnvelope, type Envelope } from '../envelope.js'
import type { VerifyKeys } from '../envelope-keys.js'
import { lostError, type Delivery, type Outcome, type RunSource } from '../broker/index.js'
import { withDeadline } from './deadline.js'
import { GraphCache } from './graphs.js'
import { checkedOutput } from './output.js'
import { startWorkerHttp, type WorkerHttp } from './http.js'
import { createLogger } from './log.js'
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js'
import { startWatchdog, type Watchdog } from './watchdog.js'

export interface WorkerOptions {
  /** The one pool this worker serves. */
  readonly pool: string
  readonly registry: Registry
  readonly source: RunSource
  /** SWITCHYARD_VERIFY_KEYS: envelopes must carry a signature by one of them; null accepts unsigned ones. */
  readonly verifyKeys: VerifyKeys | null
  /** Port of /healthz and /metrics; 0 = ephemeral; null = no HTTP server. @default null */
  readonly port?: number | null
  /** @default '127.0.0.1' */
  readonly host?: string
  /** Host names /healthz and /metrics answer besides their own (SWITCHYARD_WORKER_ALLOWED_HOSTS); `*`: any. */
  readonly allowedHosts?: readonly string[] | undefined
  /** Runs at once. @default the pool's concurrency */
  readonly concurrency?: number
  /** Kill the process when the event loop is blocked past a run's deadline + grace. @default 2000; null = no watchdog */
  readonly watchdogGraceMs?: number | null
  /** Runs waiting in the broker for this pool (read on /metrics scrape). */
  readonly queueDepth?: () => Promise<number> | number
  /** The pool's model client. @default createModel(process.env.SWITCHYARD_MODEL) */
  readonly model?: ModelClient
  /** Used as is (a logger made here scrubs the pool's secrets from every line). */
  readonly log?: Logger & { child(fields: Record<string, unknown>): Logger }
  /** Where the pool's secret values are read from (secretScrubber). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>
}

export interface PoolWorker {
  readonly pool: string
  readonly metrics: WorkerMetrics
  /** URL of /healthz and /metrics once started (null without HTTP). */
  readonly url: string | null
  /** Runs executing now. */
  inFlight(): number
  start(): Promise<void>
  /** Take no new runs, finish those in flight, stop the HTTP server and the watchdog. */
  drain(): Promise<void>
  /** Stop at once: in-flight runs are aborted (CANCELLED, retryable). */
  close(): Promise<void>
}

const tracer = trace.getTracer('switchyard-worker')

/** How long start() waits for the broker to count this worker before it says so and goes on. */
const VISIBLE_WAIT_MS = 10_000

function refusal(code: string, message: string, retryable = false): Outcome {
  return { ok: false, error: { code, message, retryable } }
}

function setCaptured(span: Span, key: string, value: unknown, pool: Pool): void {
  const recorded = captureValue(value, pool.tracing)
  if (recorded !== undefined) span.setAttribute(key, recorded)
}

function findPool(registry: Registry, name: string): Pool {
  const pool = registry.pools.get(name)
  if (!pool) {
    const known = [...registry.pools.keys()].join(', ') || '(none)'
    throw new SwitchyardError('POOL_UNAVAILABLE', `unknown pool '${name}' (the registry ${registry.source} has: ${known})`)
  }
  if (pool.runtime !== 'node') {
    throw new SwitchyardError('POOL_UNAVAILABLE', `pool '${name}' has runtime ${pool.runtime}: the node worker does not serve it`)
  }
  return pool
}

/**
 * A worker for one pool.
 *
 * @example
 * const worker = createWorker({ pool: 'email', registry, source: broker.source('email'), verifyKeys, port: 0 })
 * await worker.start()            // worker.url → http://127.0.0.1:PORT (/healthz, /metrics)
 * process.once('SIGTERM', () => void worker.drain())
 */
export function createWorker(options: WorkerOptions): PoolWorker {
  const pool = findPool(options.registry, options.pool)
  // The pool's secrets never leave in a log line, a span or a run's error (the caller's 502),
  // whatever its capture; an error message is masked as its spans are unless capture is full.
  const scrub = secretScrubber(options.env ?? process.env, pool.secrets)
  const shown = (text: string) => (pool.tracing.capture === 'full' ? scrub(text) : redactText(scrub(text)))
  const log = options.log ?? createLogger({ fields: { pool: pool.name, pid: process.pid }, scrub })
  const metrics = createWorkerMetrics()
  let model = options.model
  const graphs = new GraphCache({
    pool: pool.name,
    root: options.registry.root,
    model: () => (model ??= createModel(process.env.SWITCHYARD_MODEL)),
    log,
  })
  const labels = { pool: pool.name }
  let inFlight = 0
  let draining = false
  let http: WorkerHttp | undefined
  let watchdog: Watchdog | undefined
  const warnedDigests = new Set<string>()
  // Label sets resolved once per workflow: the per-run cost of metrics stays a few additions.
  const series = new Map<string, ReturnType<typeof seriesFor>>()
  const seriesFor = (workflow: string) => {
    const runLabels = { ...labels, workflow }
    return {
      started: metrics.runsStarted.labels(runLabels),
      succeeded: metrics.runsSucceeded.labels(runLabels),
      ok: metrics.runDuration.labels({ ...runLabels, outcome: 'succeeded' }),
      failed: metrics.runDuration.labels({ ...runLabels, outcome: 'failed' }),
    }
  }

  function reject(reason: EnvelopeRejectReason, code: string, message: string): Outcome {
    metrics.envelopesRejected.inc({ ...labels, reason })
    log.warn('envelope refused', { reason, code, error: scrub(message) })
    return refusal(code, scrub(message))
  }

  /** Everything that can refuse an envelope before it runs; returns the run's workflow and deadline. */
  function admit(delivery: Delivery): { envelope: Envelope; workflow: Workflow; deadlineMs: number } | Outcome {
    let envelope: Envelope
    try {
      envelope = verifyEnvelope(delivery.raw, options.verifyKeys)
    } catch (error) {
      const e = SwitchyardError.from(error, 'INVALID_ENVELOPE')
      return reject(/signature|signed by key/.test(e.message) ? 'signature' : 'malformed', 'INVALID_ENVELOPE', e.message)
    }
    if (delivery.runId !== undefined && delivery.runId !== envelope.runId) {
      // Signed for one run, queued as another: a genuine envelope replayed under a new job id.
      return reject(
        'replay',
        'INVALID_ENVELOPE',
        `invalid envelope: it was signed for run ${envelope.runId} but queued as ${delivery.runId} (a replay); it is not run again`,
      )
    }
    if (delivery.finished === true) {
      return reject(
        'replay',
        'INVALID_ENVELOPE',
        `invalid envelope: run ${envelope.runId} already finished (a replay); it is not run again`,
      )
    }
    let workflow: Workflow | undefined
    try {
      workflow = options.registry.workflows.get(envelope.workflow)
    } catch (error) {
      // Its files are checked on first use: changed since the compiled registry was written, they no longer compile.
      const e = SwitchyardError.from(error, 'REGISTRY_INVALID')
      return reject('registry', e.code, e.message)
    }
    const misplaced =
      envelope.pool !== pool.name
        ? `it is for pool '${envelope.pool}'`
        : !workflow
          ? `workflow '${envelope.workflow}' is not in this worker's registry`
          : workflow.pool !== pool.name
            ? `workflow '${envelope.workflow}' belongs to pool '${workflow.pool}'`
            : null
    if (misplaced !== null || !workflow) {
      return reject('pool', 'INVALID_ENVELOPE', `invalid envelope: ${misplaced}; this worker serves pool '${pool.name}'`)
    }
    if (envelope.registry !== options.registry.digest && !warnedDigests.has(envelope.registry)) {
      // A rolling deploy has gateways and workers on different registry versions for a
      // while: the signature already proves the envelope came through route(), so run it.
      warnedDigests.add(envelope.registry)
      log.warn('envelope from another registry version', { envelope: envelope.registry, worker: options.registry.digest })
    }
    // The signed deadline holds for every attempt: a run is never executed past it, so a
    // run that blocks its worker cannot come back for more after the caller gave up.
    const deadlineMs = envelopeDeadlineMs(envelope)
    if (deadlineMs <= Date.now()) {
      if (delivery.lostAttempts > 0) {
        const lost = lostError(envelope.runId, envelope.deadline, `${delivery.lostAttempts} earlier attempt(s) died with their worker`)
        metrics.envelopesRejected.inc({ ...labels, reason: 'deadline' satisfies EnvelopeRejectReason })
        return refusal(lost.code, lost.message, lost.retryable)
      }
      const which = delivery.attempt <= 1 ? `run ${envelope.runId}` : `attempt ${delivery.attempt} of run ${envelope.runId} (a retry)`
      return reject('deadline', 'DEADLINE_EXCEEDED', `${which} reached the worker after its deadline ${envelope.deadline}`)
    }
    return { envelope, workflow, deadlineMs }
  }

  async function execute(envelope: Envelope, workflow: Workflow, attempt: number, deadlineMs: number, source: AbortSignal, span: Span) {
    const graph = await graphs.get(workflow)
    const prompt = graph.prompt
    if (prompt) span.setAttribute(ATTR.promptHash, prompt.hash)
    // Most graphs never log: the child logger (a copy of the fields and four closures) is made on first use.
    let child: Logger | undefined
    const runLogger = () => (child ??= log.child({ runId: envelope.runId, workflow: workflow.name, attempt }))
    // What a graph logs follows its pool's capture, as its spans do: masked unless full.
    const masked = pool.tracing.capture !== 'full'
    const said = (message: string) => (masked ? redactText(message) : message)
    const values = (fields: Record<string, unknown> | undefined) =>
      masked && fields ? (redactValue(fields, pool.tracing.redact) as Record<string, unknown>) : fields
    const runLog: Logger = {
      debug: (message, fields) => runLogger().debug(said(message), values(fields)),
      info: (message, fields) => runLogger().info(said(message), values(fields)),
      warn: (message, fields) => runLogger().warn(said(message), values(fields)),
      error: (message, fields) => runLogger().error(said(message), values(fields)),
    }
    return withDeadline(deadlineMs, source, `run ${envelope.runId} of '${workflow.name}'`, async (signal) => {
      const run: RunContext = {
        runId: envelope.runId,
        workflow: workflow.name,
        pool: pool.name,
        attempt,
        signal,
        deadline: new Date(deadlineMs),
        prompt,
        model: model ?? (model = createModel(process.env.SWITCHYARD_MODEL)),
        log: runLog,
      }
      return graph.run(envelope.input, run)
    })
  }

  async function handle(delivery: Delivery): Promise<Outcome> {
    const admitted = admit(delivery)
    if ('ok' in admitted) return admitted
    const { envelope, workflow, deadlineMs } = admitted
    // For the graph, an attempt is each time the run starts: one whose worker died under it counts too.
    const attempt = delivery.attempt + delivery.lostAttempts
    const parent = propagation.extract(ROOT_CONTEXT, envelope.trace)
    const attributes = {
      [ATTR.pool]: pool.name,
      [ATTR.project]: pool.tracing.project,
      [ATTR.workflow]: workflow.name,
      [ATTR.runId]: envelope.runId,
      [ATTR.attempt]: attempt,
      [ATTR.registry]: envelope.registry,
    }
    let counted = series.get(workflow.name)
    if (!counted) series.set(workflow.name, (counted = seriesFor(workflow.name)))
    const count = counted
    return tracer.startActiveSpan(`run ${workflow.name}`, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      // The run's input and output, as its pool's capture allows (masked at the source when
      // `redacted`, keys at any depth; nothing when `none`), and only on a kept span.
      const recording = span.isRecording()
      if (recording) setCaptured(span, ATTR.input, envelope.input, pool)
      count.started.inc()
      inFlight += 1
      metrics.runsInFlight.set(labels, inFlight)
      const untrack = watchdog?.track(deadlineMs)
      const started = performance.now()
      try {
        const output = await checkedOutput(workflow, pool, await execute(envelope, workflow, attempt, deadlineMs, delivery.signal, span))
        if (recording) setCaptured(span, ATTR.output, output, pool)
        count.succeeded.inc()
        count.ok.observe((performance.now() - started) / 1000)
        span.setStatus({ code: SpanStatusCode.OK })
        return { ok: true, output } satisfies Outcome
      } catch (error) {
        // SwitchyardErrors keep their code and retryability; anything else a graph throws is
        // GRAPH_FAILED and retryable (a flaky API, a transient bug).
        const e =
          error instanceof SwitchyardError
            ? error
            : new SwitchyardError('GRAPH_FAILED', error instanceof Error ? error.message : String(error), { cause: error, retryable: true })
        metrics.runsFailed.inc({ ...labels, workflow: workflow.name, code: e.code })
        count.failed.observe((performance.now() - started) / 1000)
        span.setAttribute(ATTR.errorCode, e.code)
        span.recordException(e)
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${e.code}: ${e.message}` })
        log.warn('run failed', {
          runId: envelope.runId,
          workflow: workflow.name,
          attempt,
          code: e.code,
          error: shown(e.message),
        })
        return refusal(e.code, shown(e.message), e.retryable)
      } finally {
        untrack?.()
        inFlight -= 1
        metrics.runsInFlight.set(labels, inFlight)
        span.end()
      }
    })
  }

  const worker: PoolWorker = {
    pool: pool.name,
    metrics,
    get url() {
      return http?.url ?? null
    },
    inFlight: () => inFlight,
    async start() {
      metrics.runsInFlight.set(labels, 0)
      if (options.watchdogGraceMs !== null) watchdog = startWatchdog({ graceMs: options.watchdogGraceMs ?? 2000 })
      if (options.port !== undefined && options.port !== null) {
        http = await startWorkerHttp({
          host: options.host ?? '127.0.0.1',
          port: options.port,
          allowedHosts: options.allowedHosts,
          metrics: () => metrics.render(),
          beforeScrape: async () => {
            if (options.queueDepth) metrics.queueDepth.set(labels, await options.queueDepth())
          },
          health: () => ({ status: draining ? 'draining' : 'ok', pool: pool.name, inFlight, pid: process.pid }),
        })
      }
      prepareEnvelopeCheck()
      options.source.start(handle, { concurrency: options.concurrency ?? pool.concurrency })
      // "Started" means the gateway can see it (on Redis, its first heartbeat is in); a broker still out of reach is said, not waited out.
      const visible = await Promise.race([
        options.source.visible?.().then(() => true) ?? Promise.resolve(true),
        new Promise<false>((resolve) => setTimeout(resolve, VISIBLE_WAIT_MS, false).unref()),
      ])
      if (!visible) log.warn('the broker does not count this worker yet (is it reachable?); runs are taken once it does', {})
      log.info('worker started', { concurrency: options.concurrency ?? pool.concurrency, url: http?.url ?? null })
    },
    async drain() {
      draining = true
      await options.source.drain()
      await worker.close()
    },
    async close() {
      draining = true
      await options.source.close()
      await http?.close()
      await watchdog?.stop()
      http = undefined
      watchdog = undefined
    },
  }
  return worker
}
