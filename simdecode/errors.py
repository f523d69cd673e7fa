"""Errors in what the user gave simdecode: a scenario file, an override, a missing file.

A :class:`ScenarioError` says where the problem is (file, line, dotted key path) and what was
expected, in one short line per problem, so the command line can print it without a traceback
(exit code 2)::

    scenarios/x.yaml:12: hardware.gpu.memory_bandwidth: unknown bandwidth unit 'GB/z' in
    '450 GB/z': expected e.g. '450 GB/s'; did you mean 450 GB/s?

Everything shown comes from untrusted input, so control characters are escaped before printing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: problems listed by ``str(error)``; the rest are counted
MAX_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where."""

    message: str
    file: str | None = None
    line: int | None = None
    key_path: str = ""
    hint: str | None = None
    origin: str | None = None  # where the value came from if not the file, e.g. "--set parallelism.tp=3"

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None and self.origin is None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [where] if where else []
        if self.key_path:
            parts.append(f"{self.key_path} (from {self.origin})" if self.origin else self.key_path)
        elif self.origin:
            parts.append(f"(from {self.origin})")
        text = self.message + (f"; {self.hint}" if self.hint else "")
        return _printable(": ".join([*parts, text]))


class ScenarioError(Exception):
    """The user's input is wrong. ``file``, ``line``, ``key_path``, ``message`` and ``hint``
    describe the first problem; ``problems`` holds them all (several pydantic errors, say)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key_path: str = "",
        hint: str | None = None,
        origin: str | None = None,
    ) -> None:
        self._set((Problem(message, file, line, key_path, hint, origin),))

    @classmethod
    def from_problems(cls, problems: list[Problem] | tuple[Problem, ...]) -> ScenarioError:
        if not problems:
            raise ValueError("a ScenarioError needs at least one problem")
        error = cls.__new__(cls)
        error._set(tuple(problems))
        return error

    def _set(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        first = problems[0]
        self.message = first.message
        self.file = first.file
        self.line = first.line
        self.key_path = first.key_path
        self.hint = first.hint
        self.origin = first.origin
        super().__init__(str(self))

    def with_file(self, file: str) -> ScenarioError:
        """The same problems, attributed to ``file`` where they name none."""
        return ScenarioError.from_problems([p if p.file else replace(p, file=file) for p in self.problems])

    def __reduce__(self):  # keep the fields through pickling (multiprocessing sweeps)
        return (ScenarioError.from_problems, (self.problems,))

    def __str__(self) -> str:
        lines = [str(problem) for problem in self.problems[:MAX_SHOWN]]
        hidden = len(self.problems) - MAX_SHOWN
        if hidden > 0:
            lines.append(f"... and {hidden} more error{'s' if hidden > 1 else ''}")
        return "\n".join(lines)


def _printable(text: str) -> str:
    """Escape control characters (terminal escapes in a hostile file) but keep ordinary Unicode."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
