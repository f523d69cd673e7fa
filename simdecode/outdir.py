"""The ``--out DIR`` rule shared by ``run`` and ``sweep``: never write over earlier results by
accident. A folder that exists and holds anything is refused unless ``--force`` is given."""

from __future__ import annotations

import os
from pathlib import Path


class OutDirError(Exception):
    """``--out`` names a folder that cannot be used (a user error, exit code 2)."""


def check_out_dir(out: str | os.PathLike[str], force: bool = False) -> Path:
    """``out`` as a Path if results may be written there; create nothing.

    Refused: a file that is not a folder; a non-empty folder (unless ``force``); a folder whose
    nearest existing parent cannot be written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutDirError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and not force and any(out.iterdir()):
        raise OutDirError(f"--out {out}: the folder is not empty (earlier results?); "
                          "choose another folder or add --force to write over it")
    parent = out
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent.exists() and (not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK)):
        raise OutDirError(f"--out {out}: cannot create or write in {parent}")
    return out
