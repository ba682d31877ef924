"""Export settings and a real OTLP/HTTP export to a local receiver (127.0.0.1, port 0)."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from switchyard_worker.tracing import init_tracing, traces_url


def test_endpoint_order_matches_the_typescript_side():
    assert traces_url({}) is None
    assert traces_url({"SWITCHYARD_TRACES_URL": "http://gw:7070/"}) == "http://gw:7070/v1/traces"
    assert traces_url({"SWITCHYARD_TRACES_URL": "http://gw:7070/v1/traces"}) == "http://gw:7070/v1/traces"
    assert traces_url({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/", "SWITCHYARD_TRACES_URL": "http://gw"}) == "http://c:4318/v1/traces"
    assert traces_url({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://d"}) == "http://c/x"
    assert init_tracing("py", "proj", {}, install=False) is None


def test_spans_reach_the_embedded_receiver_with_the_pool_resource_and_token():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((self.path, self.headers.get("authorization"), body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"SWITCHYARD_TRACES_URL": f"http://127.0.0.1:{server.server_port}", "SWITCHYARD_TRACES_TOKEN": "tok"}
        provider = init_tracing("py", "proj-py", env, install=False)
        assert provider is not None
        with provider.get_tracer("t").start_as_current_span("run py.echo"):
            pass
        provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    [(path, auth, body)] = received
    assert path == "/v1/traces" and auth == "Bearer tok"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "switchyard-pool-py"
    assert attributes["switchyard.pool"] == "py" and attributes["switchyard.project"] == "proj-py"
    assert resource_spans.scope_spans[0].spans[0].name == "run py.echo"
