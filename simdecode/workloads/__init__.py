"""Traffic: request traces read from files and the random draws of synthetic workloads.

Pure functions on numpy, free of SimPy (the engine's :mod:`simdecode.engine.workload` drives
them): :mod:`~simdecode.workloads.traces` reads trace files (untrusted input, bounded),
:mod:`~simdecode.workloads.sampling` draws inter-arrival gaps and request lengths from a named
random stream.
"""
