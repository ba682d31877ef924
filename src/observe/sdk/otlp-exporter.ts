// The OTLP/HTTP span exporter for resolved settings: protobuf (the spec's default)
// or JSON. Settings are passed explicitly so a pool's exporter follows its own env.
//
// Protobuf is OpenTelemetry's own exporter (transport, retries, timeouts, compression,
// self-metrics) with our serializer plugged in: it writes the same request in well
// under half the CPU, and a busy worker pays that for every span (otlp-protobuf-writer.ts).
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base'
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http'
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { ExporterSettings } from './exporter-settings.js'
import { protobufSpanSerializer } from './otlp-protobuf-writer.js'

type ExporterConfig = NonNullable<ConstructorParameters<typeof JsonExporter>[0]>

/** The component type OpenTelemetry's own OTLP/HTTP span exporters report in their self-metrics. */
const COMPONENT_TYPE = 'otlp_http_span_exporter'

/** An OTLP/HTTP exporter posting to `settings.url`. */
export function otlpExporter(settings: ExporterSettings): SpanExporter {
  const config: ExporterConfig = {
    url: settings.url,
    headers: settings.headers,
    timeoutMillis: settings.timeoutMillis,
    // The enum lives in a transitive package; its values are these strings.
    compression: settings.compression as ExporterConfig['compression'],
  }
  if (settings.protocol === 'http/json') return new JsonExporter(config)
  const http = convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' })
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegate(http, protobufSpanSerializer, COMPONENT_TYPE, TraceExporterMetricsHelper, undefined),
  )
}
