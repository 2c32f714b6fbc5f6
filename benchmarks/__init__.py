"""Benchmarks: pixirt side by side with its peers, results in ``benchmarks/results/*.json``."""
