"""Traffic: the random draws of synthetic workloads.

Pure functions on numpy, free of SimPy (the engine's :mod:`simdecode.engine.workload` drives
them): :mod:`~simdecode.workloads.sampling` draws inter-arrival gaps and request lengths from a
named random stream. Trace files are scenario input, read and checked while the scenario is
validated: :mod:`simdecode.scenario.traces`.
"""
