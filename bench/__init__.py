"""`make bench`: load and build throughput, side by side with the DuckDB floor and dlt.

Not part of the test suite: speed belongs in figures a person reads, not in timed tests.
See the "Benchmarks" section of the README.
"""
