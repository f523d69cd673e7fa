"""``simdecode validate``: every published measurement simdecode can stand for, predicted and compared.

- :mod:`.conditions`: a case's stated conditions in words -> presets and scenario keys;
- :mod:`.published`, :mod:`.inferencex`: the two files' schemas -> :class:`~.cases.Job` s;
- :mod:`.runner`: the simulations, in worker processes, and the probes that read predictions;
- :mod:`.table`, :mod:`.figure`: the table (Markdown, CSV, JSON) and the predicted-vs-measured PNG;
- :mod:`.command`: the command line.
"""
