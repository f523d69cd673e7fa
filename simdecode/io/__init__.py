"""Files in and out: the one reader of user files, the one writer, and the files of ``--out``.

- :mod:`simdecode.io.userfiles`: the one place simdecode opens a file a user named (confined,
  regular, bounded); the scenario loader, traces and presets read through it.
- :mod:`simdecode.io.outfiles`: the one place simdecode creates, replaces or removes anything
  (targets checked first, files and folders replaced atomically).
- :mod:`simdecode.io.output`: the files of ``--out`` rendered (summary.json, requests.csv, figures).
- :mod:`simdecode.io.provenance`: what makes a summary describe itself (overrides, resolved scenario).

``userfiles`` and ``outfiles`` import nothing else of simdecode; this package imports nothing of the
engine or the cost model (``tests/test_architecture.py``). Importing the package imports none of them.
"""
