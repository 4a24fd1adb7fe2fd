"""Throughput benchmarks, run by scripts/bench (never part of the integration)."""
