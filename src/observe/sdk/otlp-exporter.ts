// The OTLP/HTTP span exporter for resolved settings: protobuf (the spec's default) or
// JSON, both OpenTelemetry's own exporters (transport, retries, timeouts, compression,
// self-metrics). Settings are passed explicitly so a pool's exporter follows its own env.
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { ExporterSettings } from './exporter-settings.js'

type ExporterConfig = NonNullable<ConstructorParameters<typeof JsonExporter>[0]>

/** An OTLP/HTTP exporter posting to `settings.url`. */
export function otlpExporter(settings: ExporterSettings): SpanExporter {
  const config: ExporterConfig = {
    url: settings.url,
    headers: settings.headers,
    timeoutMillis: settings.timeoutMillis,
    // The enum lives in a transitive package; its values are these strings.
    compression: settings.compression as ExporterConfig['compression'],
  }
  return settings.protocol === 'http/json' ? new JsonExporter(config) : new ProtobufExporter(config)
}
