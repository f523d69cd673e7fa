"""Presentation: what turns results and scenarios into words and tables.

- :mod:`simdecode.present.report`: terminal tables (the summary, the preset catalogues).
- :mod:`simdecode.present.explain`: one token's critical path in words (its numbers come from
  :mod:`simdecode.analysis`).
- :mod:`simdecode.present.compare`: ``simdecode compare``, summaries side by side.
- :mod:`simdecode.present.reference`: docs/scenario-reference.md, generated from the schema.
- :mod:`simdecode.present.lazy`: package attributes imported on first use (``plots``, ``estimate``).

These modules format what the analyses computed; they never run the engine (``tests/test_architecture.py``).
Figures live in :mod:`simdecode.plots`, output files in :mod:`simdecode.io`.
"""
