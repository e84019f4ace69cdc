"""Router telemetry: Prometheus metrics."""
