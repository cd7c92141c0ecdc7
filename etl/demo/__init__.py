"""The deterministic synthetic campaign behind the demo, the tests and the benchmark."""
