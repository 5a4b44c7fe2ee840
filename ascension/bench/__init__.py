"""Benchmarks behind `ascension bench ...`: each prints a table and, with --json, one JSON line."""
