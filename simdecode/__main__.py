"""``python -m simdecode ...`` runs the command-line interface (see :mod:`simdecode.cli`)."""

from simdecode.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
