"""Benchmarks of dsc-engine against what users would pick instead (stdlib sqlite3, a naive scan).

``python3 -m benchmarks.run --sizes 100000,1000000`` generates data with the sample generator,
runs the one workload (``workload.py``) with every runner in its own subprocess, cross-checks
that all runners answer every query identically, and writes ``benchmarks/RESULTS.md`` and
``benchmarks/results.json``. Not part of the test suite; ``tests/test_benchmark_smoke.py`` runs
the harness on a tiny data set so it cannot rot.
"""
