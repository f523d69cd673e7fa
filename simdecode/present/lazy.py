"""Package attributes imported on first use (PEP 562), for packages whose modules are heavy.

``simdecode --help`` and the commands that draw nothing register every subcommand's options; a
package such as :mod:`simdecode.plots` (matplotlib) or :mod:`simdecode.estimate` (the search and
the cost model) must not load its modules for that. Such a package lists its exports by the
module that defines each, and takes its ``__getattr__`` and ``__dir__`` from :func:`lazy_exports`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: dict[str, str],
                 names: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps an attribute to the submodule
    (relative to ``package``) that defines it, imported when the attribute is first read;
    ``names`` is the package's ``globals()``, listed by ``__dir__`` with the exports."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(names) | set(exports))

    return __getattr__, __dir__
