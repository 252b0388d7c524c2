"""Benchmarks of ied-workflow; see docs/benchmarks.md."""
