// The embedded OTLP/HTTP receiver: JSON or protobuf in, stored spans out, filed by project.
export { receiveOtlp } from './otlp-receiver.js'
export { decodeOtlpJson } from './otlp-json.js'
export { decodeOtlpProtobuf } from './otlp-protobuf.js'
export { toStoredSpans, processOf, projectOf, nanosToMillis, KINDS, STATUSES } from './otlp-request.js'
