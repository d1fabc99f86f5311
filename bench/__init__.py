"""Benchmarks: a deterministic data generator and a load driver (`make bench`)."""
