"""Benchmarks that print figures (``python -m benchmarks``); not part of the test suite."""
