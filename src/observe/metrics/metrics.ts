// A tiny Prometheus registry: counters, gauges and histograms with labels, and the
// text exposition format (version 0.0.4). No dependency: the worker and the gateway
// both serve /metrics, and neither should pull a metrics SDK for a handful of series.

type Labels = Readonly<Record<string, string | number>>

/** Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Default histogram buckets, in seconds (from 1 ms to 2 min). */
export const DEFAULT_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

interface Metric {
  readonly name: string
  render(): string[]
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}="${escapeValue(String(labels[key]))}"`)
  if (extra) pairs.push(`${extra[0]}="${escapeValue(extra[1])}"`)
  return pairs.length ? `{${pairs.join(',')}}` : ''
}

function keyOf(labels: Labels): string {
  return labelText(labels)
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

abstract class Series<T> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; value: T }>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly type: 'counter' | 'gauge' | 'histogram',
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name '${name}'`)
  }

  protected entry(labels: Labels, init: () => T): { labels: Labels; value: T } {
    const key = keyOf(labels)
    let found = this.series.get(key)
    if (!found) {
      found = { labels: { ...labels }, value: init() }
      this.series.set(key, found)
    }
    return found
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help.replace(/\n/g, ' ')}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()]
  }

  protected abstract samples(): string[]
}

/** A value that only goes up (runs started, envelopes rejected). */
export class Counter extends Series<number> {
  constructor(name: string, help: string) {
    super(name, help, 'counter')
  }

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`)
    this.entry(labels, () => 0).value += by
  }

  get(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.value ?? 0
  }

  /** One label set, resolved once: for hot paths that count the same series again and again. */
  labelled(labels: Labels): { inc(by?: number): void } {
    const entry = this.entry(labels, () => 0)
    return {
      inc: (by = 1) => {
        if (by < 0) throw new Error(`counter ${this.name} cannot decrease`)
        entry.value += by
      },
    }
  }

  protected samples(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatNumber(s.value)}`)
  }
}

/** A value that goes up and down (runs in flight), or is read on scrape through `collect`. */
export class Gauge extends Series<number> {
  private collector: (() => void) | undefined

  constructor(name: string, help: string) {
    super(name, help, 'gauge')
  }

  set(value: number, labels: Labels = {}): void {
    this.entry(labels, () => 0).value = value
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by
  }

  dec(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value -= by
  }

  get(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.value ?? 0
  }

  /** Called before each render, to set values that are cheaper to read than to track. */
  collect(collector: () => void): this {
    this.collector = collector
    return this
  }

  protected samples(): string[] {
    this.collector?.()
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatNumber(s.value)}`)
  }
}

interface Buckets {
  counts: number[]
  sum: number
  count: number
}

/** Observations counted into cumulative buckets (run durations, in seconds). */
export class Histogram extends Series<Buckets> {
  readonly buckets: readonly number[]

  constructor(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, 'histogram')
    this.buckets = [...buckets].sort((a, b) => a - b)
  }

  observe(value: number, labels: Labels = {}): void {
    this.record(this.entry(labels, () => this.empty()).value, value)
  }

  /** One label set, resolved once (see Counter.labelled). */
  labelled(labels: Labels): { observe(value: number): void } {
    const entry = this.entry(labels, () => this.empty()).value
    return { observe: (value) => this.record(entry, value) }
  }

  private empty(): Buckets {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
  }

  private record(entry: Buckets, value: number): void {
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) entry.counts[i] = (entry.counts[i] ?? 0) + 1
    }
    entry.sum += value
    entry.count += 1
  }

  /** Count and sum of one label set (for tests and status lines). */
  get(labels: Labels = {}): { count: number; sum: number } {
    const entry = this.series.get(keyOf(labels))?.value
    return { count: entry?.count ?? 0, sum: entry?.sum ?? 0 }
  }

  protected samples(): string[] {
    const lines: string[] = []
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket${labelText(labels, ['le', formatNumber(bound)])} ${value.counts[i] ?? 0}`)
      })
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${value.count}`)
      lines.push(`${this.name}_sum${labelText(labels)} ${value.sum}`)
      lines.push(`${this.name}_count${labelText(labels)} ${value.count}`)
    }
    return lines
  }
}

/**
 * A set of metrics rendered together on `/metrics`.
 *
 * @example
 * const metrics = new MetricsRegistry()
 * const started = metrics.counter('switchyard_runs_started_total', 'Runs started.')
 * started.inc({ workflow: 'email.compose' })
 * res.setHeader('content-type', METRICS_CONTENT_TYPE).end(metrics.render())
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>()

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help))
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help))
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets))
  }

  /** The text exposition of every metric, in registration order. */
  render(): string {
    return [...this.metrics.values()].flatMap((metric) => metric.render()).join('\n') + '\n'
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric '${metric.name}' is registered twice`)
    this.metrics.set(metric.name, metric)
    return metric
  }
}
