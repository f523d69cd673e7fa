"""Writing files: the only place simdecode creates, replaces or removes anything on disk.

Only the command line chooses where output goes (``--out DIR``, ``--trace FILE``); a scenario
file never does. The rules:

- **checked before simulating**: :func:`check_file_target` and :func:`prepare_out_dir` refuse, at
  once, an empty name, a directory given as a file, an existing target that is not a regular
  file (a device such as ``/dev/null``, a FIFO, a socket, a symbolic link), a folder that does
  not exist or cannot be written (probed by creating and removing a temporary entry, so it holds
  for root and read-only file systems too), and a name too long for the file system;
- **one file, atomically**: :func:`write_file_atomic` writes a uniquely named temporary file in the
  same folder and renames it over the target: readers see the old file or the new one;
- **a folder, atomically**: :func:`atomic_out_dir` gives a fresh, uniquely named sibling folder
  to write into; on success it is marked as simdecode's output (:data:`MARKER`) and swapped in
  whole. On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call, so a run killed at any
  point leaves ``DIR`` as it was or complete; elsewhere the old folder is renamed aside, the new
  one into place, and the old one removed (a kill between the two renames leaves ``DIR`` absent
  and the old folder beside it under a ``.DIR.simdecode-old-*`` name). Swaps into one ``DIR``
  are serialised with a lock on the parent folder, so concurrent runs never mix their files:
  the last to finish wins, whole. Temporary folders left by a killed run are removed by the next
  run on the same ``DIR`` (only when the process that made them is gone);
- **never someone else's folder**: ``DIR`` may be absent, empty, or simdecode's own output (it
  holds :data:`MARKER`, or only files simdecode writes); anything else is refused unless
  ``force`` (``--force``), which replaces the folder and everything in it. The working folder,
  its parents and the home folder are never replaced.

Errors are :class:`OutputError` (the command line prints them as ``error:`` and exits 2).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

#: a file in every folder simdecode writes, so a later run knows it may replace the folder
MARKER = ".simdecode-output"
#: the files a folder written by simdecode holds (older versions wrote no marker)
KNOWN_OUTPUTS = frozenset({MARKER, "summary.json", "requests.csv", "timeline.png", "kv_occupancy.png"})
_TMP, _OLD, _PROBE = "simdecode-tmp", "simdecode-old", "simdecode-probe"
_SUFFIX_CHARS = 48  # what a temporary name adds to the target's name, at most


class OutputError(Exception):
    """An output target that cannot or may not be written (exit code 2)."""


def check_file_target(path: str | os.PathLike[str], what: str = "--trace") -> Path:
    """Check, creating nothing that stays, that ``path`` can be written as a regular file."""
    try:
        return _check_file_target(path, what)
    except OSError as exc:  # a name too long, a loop of links...
        raise OutputError(f"{what} {path}: {exc.strerror or exc}") from None


def _check_file_target(path: str | os.PathLike[str], what: str) -> Path:
    target = _named(path, what)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{what} {path}: {exc.strerror or exc}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{what} {path}: is a directory: give a file name, e.g. {Path(path) / 'trace.json'}")
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{what} {path}: is a symbolic link: give the path of the file itself")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{what} {path}: exists and is not a regular file (a device, pipe or socket): "
                              "simdecode replaces only regular files")
    _probe_folder(target.parent, target.name, what, path, directory=False)
    _remove_stale(target)
    return target


def prepare_out_dir(path: str | os.PathLike[str], force: bool = False, what: str = "--out") -> Path:
    """Check, creating nothing that stays, that ``path`` can become (or be replaced by) an output folder.

    Returns the folder's real path (a symbolic link to a folder is followed: the user named it).
    Raises :class:`OutputError` when it cannot, or when it is a non-empty folder that is not
    simdecode's output and ``force`` is not given.
    """
    try:
        return _prepare_out_dir(path, force, what)
    except OSError as exc:  # a name too long, a loop of links...
        raise OutputError(f"{what} {path}: {exc.strerror or exc}") from None


def _prepare_out_dir(path: str | os.PathLike[str], force: bool, what: str) -> Path:
    target = _named(path, what)
    if os.path.islink(target):
        target = Path(os.path.realpath(target))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{what} {path}: {exc.strerror or exc}") from None
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{what} {path}: exists and is not a folder")
    _refuse_precious(target, what, path)
    if info is not None:
        _check_replaceable(target, force, what, path)
    folder = target.parent
    while not os.path.lexists(folder) and folder.parent != folder:  # the parents are created when writing
        folder = folder.parent
    _probe_folder(folder, target.name, what, path, directory=True)
    return target


@contextlib.contextmanager
def atomic_out_dir(path: str | os.PathLike[str], force: bool = False, what: str = "--out") -> Iterator[Path]:
    """Context manager: a fresh folder to write into, swapped in as ``path`` on success, removed on error.

    ``with atomic_out_dir("out/x") as tmp: (tmp / "a.json").write_bytes(...)``. The checks of
    :func:`prepare_out_dir` run again here, since the folder may have changed meanwhile.
    """
    target = prepare_out_dir(path, force, what)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = _fresh_dir(target, _TMP)
    try:
        yield tmp
        _write_marker(tmp)
        with _locked(target.parent):
            _swap_in(tmp, target, force, what, path)
    finally:
        if tmp.exists() or tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)


def write_file_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a uniquely named temporary file in the same folder and a rename."""
    path = Path(path)
    # os.open with O_EXCL, not tempfile.mkstemp: the file gets the umask's usual permissions (0644)
    tmp = path.with_name(_temp_name(path.name, _TMP) + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):  # appeared since it was checked
            raise OutputError(f"{path}: exists and is not a regular file: not replaced")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- checks


def _named(path: str | os.PathLike[str], what: str) -> Path:
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str) or not text.strip():
        raise OutputError(f"{what}: expected a name, got an empty one")
    if "\x00" in text:
        raise OutputError(f"{what}: a name cannot contain a NUL character")
    target = Path(os.path.abspath(text))
    if target.parent == target:
        raise OutputError(f"{what} {text}: the root folder cannot be an output")
    return target


def _refuse_precious(target: Path, what: str, shown: object) -> None:
    real = Path(os.path.realpath(target))
    cwd = Path(os.path.realpath(os.getcwd()))
    home = Path(os.path.realpath(os.path.expanduser("~")))
    if real == cwd or real in cwd.parents or real == home:
        raise OutputError(f"{what} {shown}: is the working folder, one of its parents or the home folder: "
                          "give a folder of its own, e.g. out/run1")


def _check_replaceable(target: Path, force: bool, what: str, shown: object) -> None:
    try:
        names = os.listdir(target)
    except OSError as exc:
        raise OutputError(f"{what} {shown}: cannot list the folder: {exc.strerror or exc}") from None
    if names and not force and not (MARKER in names or set(names) <= KNOWN_OUTPUTS):
        raise OutputError(f"{what} {shown}: is a folder that holds other files and is not simdecode's output: "
                          "give an empty or new folder, or --force to replace it and everything in it")


def _probe_folder(folder: Path, name: str, what: str, shown: object, *, directory: bool) -> None:
    """Create and remove a temporary entry named like the output's temporaries in ``folder``."""
    if not os.path.isdir(folder):
        raise OutputError(f"{what} {shown}: folder {folder} does not exist" if not os.path.lexists(folder)
                          else f"{what} {shown}: {folder} is not a folder")
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    if len(os.fsencode(name)) + _SUFFIX_CHARS > limit:
        raise OutputError(f"{what} {shown}: the name is too long for the file system "
                          f"(at most {limit - _SUFFIX_CHARS} bytes here)")
    probe = folder / _temp_name(name, _PROBE)
    try:
        if directory:
            os.mkdir(probe, 0o700)
            os.rmdir(probe)
        else:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{what} {shown}: cannot write in {folder}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- the folder swap


def _temp_name(name: str, kind: str) -> str:
    return f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(6)}"


def _fresh_dir(target: Path, kind: str) -> Path:
    while True:
        tmp = target.with_name(_temp_name(target.name, kind))
        try:
            os.mkdir(tmp, 0o777)  # the umask's usual permissions, like any folder the user makes
            return tmp
        except FileExistsError:
            continue


def _write_marker(folder: Path) -> None:
    (folder / MARKER).write_text("This folder was written by simdecode; a later run may replace it whole.\n",
                                 encoding="utf-8")


def _swap_in(tmp: Path, target: Path, force: bool, what: str, shown: object) -> None:
    for _ in range(8):  # another run may create or replace the target between the tries
        if target.exists():
            if not target.is_dir() or target.is_symlink():
                raise OutputError(f"{what} {shown}: is no longer a folder: nothing written")
            _check_replaceable(target, force, what, shown)
            if _exchange(tmp, target):
                return  # tmp now holds the old folder; the caller removes it
            old = target.with_name(_temp_name(target.name, _OLD))
            try:
                os.rename(target, old)
            except FileNotFoundError:
                continue
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
            return
        try:
            os.rename(tmp, target)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    raise OutputError(f"{what} {shown}: kept changing while being replaced: nothing written")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    func = _renameat2()
    if func is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an old kernel, or a file system without it
        return False
    raise OSError(err, os.strerror(err), str(b))


_RENAMEAT2: list = []


def _renameat2():
    if not _RENAMEAT2:
        func = None
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            func = libc.renameat2
            func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            func.restype = ctypes.c_int
        _RENAMEAT2.append(func)
    return _RENAMEAT2[0]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` (POSIX ``flock``), released on exit."""
    try:
        import fcntl
    except ImportError:  # Windows: the swap's renames are the only guard
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove_stale(target: Path) -> None:
    """Remove the temporaries (folders, files, probes) a killed run left beside ``target``, once the
    process that made them is gone; an old folder set aside by the two-rename fallback goes back
    to ``target`` when a kill left ``target`` absent."""
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        rest = entry.name[len(prefix):]
        for kind in (_TMP, _OLD, _PROBE):
            if not rest.startswith(kind + "-"):
                continue
            pid = rest[len(kind) + 1:].split("-", 1)[0]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
                elif kind == _OLD and not os.path.lexists(target):  # killed between the two renames
                    os.rename(entry.path, target)  # the old output back, as it was
                else:
                    shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
