"""Reading files a user (or a scenario file) names: the only place simdecode opens user files.

A scenario file is untrusted input: it may come from anywhere, and the files it names (a model's
``config.json``, a request trace, a column of lengths) are read on its behalf. Every such read
goes through :func:`read_user_file`, which enforces:

- **confinement**: a path named by a scenario is taken relative to the scenario's folder
  (``root``) and, once every symbolic link is resolved (:func:`os.path.realpath`), must still lie
  inside that folder (itself resolved). ``../x.csv``, ``/etc/passwd`` and a symlink pointing out
  of the folder are refused. The scenario file itself, and ``--set`` values, are the user's
  choice: they are not confined (``root=None``);
- **regular files only**: the file is opened without blocking (a FIFO cannot hang the reader),
  then checked with :func:`os.fstat` on the opened descriptor (so a swap between the check and
  the read cannot change what is read): directories, devices, FIFOs and sockets are refused;
- **bounded size**: at most ``max_bytes`` are read; a file that reports a size of 0 but yields
  bytes, or grows while read (``/proc`` and ``/sys`` pseudo-files), is refused;
- **no echo**: errors name the path as the user wrote it and what was expected, never the file's
  content. A caller that quotes a value from an allowed file passes it through :func:`excerpt`
  (short, control characters escaped).

Errors are :class:`UserFileError`, a :class:`ValueError`, so pydantic validators turn them into
scenario errors at the right key path (exit code 2).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

#: characters of an allowed file's content an error message may quote
EXCERPT_CHARS = 40


class UserFileError(ValueError):
    """A file named by the user cannot or may not be read; the message says why, not what is in it."""


@dataclass(frozen=True)
class UserFile:
    """What :func:`read_user_file` read: the resolved path and the raw bytes."""

    shown: str        # the path as the user wrote it (for messages)
    path: Path        # the resolved path (symlinks followed), for caching
    data: bytes
    mtime_ns: int

    def text(self, what: str = "file") -> str:
        """The content as UTF-8 text (a byte-order mark dropped); not UTF-8 is a :class:`UserFileError`."""
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data.count(b"\n", 0, exc.start) + 1
            raise UserFileError(f"{what} {self.shown} is not UTF-8 text (line {line})") from None


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable rendering of a value taken from an allowed file, for an error message."""
    text = value if isinstance(value, str) else repr(value)
    cut = len(text) > limit
    text = text[:limit]
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return repr(text) + ("..." if cut else "")


def locate(path: object, root: str | os.PathLike[str] | None, what: str = "file") -> tuple[str, Path]:
    """``(shown, resolved)`` for ``path``: relative paths joined to ``root`` (or the working folder
    when ``root`` is None), every symbolic link resolved; refused when ``root`` is given and the
    resolved path leaves it. Nothing is opened."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise UserFileError(f"{what}: expected a path to a file, got {excerpt(path)}")
    shown = str(path)
    if "\x00" in shown:
        raise UserFileError(f"{what} {excerpt(shown)}: a path cannot contain a NUL character")
    base = Path(root) if root is not None else Path(".")
    joined = Path(shown) if os.path.isabs(shown) else base / shown
    try:
        resolved = Path(os.path.realpath(joined))
    except (OSError, ValueError) as exc:  # a symlink loop on some Pythons, an over-long name
        raise UserFileError(f"cannot read {what} {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    if root is not None:
        top = Path(os.path.realpath(base))
        if resolved != top and top not in resolved.parents:
            raise UserFileError(
                f"{what} {shown} is outside the scenario's folder {top}: a scenario may read only files in "
                "its own folder or below it (copy or link the file there; a link must not point outside)")
    return shown, resolved


def read_user_file(path: object, root: str | os.PathLike[str] | None, *, what: str = "file",
                   max_bytes: int) -> UserFile:
    """Read the regular file ``path`` (see the module docstring for the rules), at most ``max_bytes``.

    ``root``: the folder a scenario's paths are confined to (its own folder); None for a path the
    user gave on the command line, which may be anywhere.
    """
    shown, resolved, fd, info = _open_checked(path, root, what, max_bytes)
    too_big = f"{what} {shown} is larger than {_size(max_bytes)}"
    try:
        if os.name == "posix":  # back to blocking reads: a regular file never blocks anyway
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise UserFileError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UserFileError(too_big)
    if len(data) > info.st_size:
        raise UserFileError(f"{what} {shown} is not an ordinary file (it grew while read, or is a "
                            "system pseudo-file): expected a file")
    return UserFile(shown, resolved, data, info.st_mtime_ns)


def check_user_file(path: object, root: str | os.PathLike[str] | None, *, what: str = "file",
                    max_bytes: int) -> Path:
    """The resolved path of ``path`` after every check of :func:`read_user_file` but the read itself."""
    _, resolved, fd, _ = _open_checked(path, root, what, max_bytes)
    os.close(fd)
    return resolved


def _open_checked(path: object, root: str | os.PathLike[str] | None, what: str,
                  max_bytes: int) -> tuple[str, Path, int, os.stat_result]:
    """``(shown, resolved, fd, fstat)``: ``path`` located, opened without blocking and checked."""
    shown, resolved = locate(path, root, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(resolved, flags | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        looked = "" if str(resolved) == shown else f" (looked for {resolved})"
        raise UserFileError(f"{what} not found: {shown}{looked}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a link since it was resolved
            raise UserFileError(f"{what} {shown} changed while being opened") from None
        if exc.errno == errno.EISDIR:
            raise UserFileError(f"{what} {shown} is a directory: expected a file") from None
        raise UserFileError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserFileError(f"{what} {shown} is a directory: expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise UserFileError(f"{what} {shown} is not a regular file (a device, pipe or socket): expected a file")
        if root is not None and _opened_path(fd) not in (None, str(resolved)):  # a folder swapped for a link
            raise UserFileError(f"{what} {shown} changed while being opened")
        if info.st_size > max_bytes:
            raise UserFileError(f"{what} {shown} is larger than {_size(max_bytes)}")
    except BaseException:
        os.close(fd)
        raise
    return shown, resolved, fd, info


def _opened_path(fd: int) -> str | None:
    """The path the kernel says ``fd`` is open on (Linux), or None where it cannot tell."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def file_key(path: object, root: str | os.PathLike[str] | None, what: str = "file") -> tuple[str, int, int]:
    """``(resolved path, size, mtime_ns)`` of a file, confined like :func:`read_user_file`: a cache key."""
    _, resolved = locate(path, root, what)
    try:
        info = os.stat(resolved)
    except (OSError, ValueError):
        return str(resolved), -1, -1
    return str(resolved), info.st_size, info.st_mtime_ns


def _size(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n:,} bytes"
