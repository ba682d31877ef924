// An in-memory OpenTelemetry SDK for tests that assert model-call spans. Registered the
// way a pool's tracing is (NodeTracerProvider with the pool's context manager, so context.with()
// carries the active span across awaits, into LangGraph nodes too), and removed again by stop().
import { context, propagation, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { RefinedContextManager } from '../../src/observe/sdk/index.js'

export function recordSpans(): { exporter: InMemorySpanExporter; stop: () => Promise<void> } {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  provider.register({ contextManager: new RefinedContextManager() })
  return {
    exporter,
    stop: async () => {
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}
