"""The SimPy engine: hardware as resources, work as processes (architecture.md section 4).

SimPy is imported here and only here; the cost model and the policies stay pure.
"""
