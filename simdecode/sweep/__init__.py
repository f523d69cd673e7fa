"""Sweeps: a grid of scenario variants, run in parallel, gathered into one tidy table.

- :mod:`simdecode.sweep.grid`: axes (``sweep:`` block, ``--vary``), linked settings, the product;
- :mod:`simdecode.sweep.executors`: local processes or Ray;
- :mod:`simdecode.sweep.table`: the table (CSV, JSON, Parquet);
- :mod:`simdecode.sweep.run`: plan, run, write; :func:`sweep` does all three but writing.
"""

from simdecode.sweep.grid import Axis, Point, grid, parse_vary
from simdecode.sweep.run import Sweep, SweepResult, plan_sweep, run_sweep, sweep, write_sweep
from simdecode.sweep.table import column, read_table

__all__ = ["Axis", "Point", "Sweep", "SweepResult", "column", "grid", "parse_vary", "plan_sweep", "read_table",
           "run_sweep", "sweep", "write_sweep"]
