"""Benchmarks for `make bench`: mapsvc against a peer on the same machine, in the same run."""
