"""Cache files written atomically (a reader sees the old file or the whole new one, never half),
now or off the critical path."""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import tempfile
import threading
from pathlib import Path
from typing import IO, Callable


def write_atomically(path: Path, write: Callable[[IO], None], *, binary: bool) -> None:
    """Create ``path`` through a temporary sibling and a rename. ``OSError`` propagates; callers
    whose cache is optional catch it (a read-only or full disk only costs a recompute)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared install must stay readable
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _LaterWriter:
    """One daemon thread writing optional cache files in order. Writing a compiled automaton costs
    about as much as compiling a small one; a compile that only *fills* the cache should not wait
    for the disk before its first mask."""

    def __init__(self) -> None:
        self._reset()
        atexit.register(self.flush)
        # a forked child has no writer thread and may have copied a queue lock mid-use
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._jobs: queue.Queue[tuple[Path, Callable[[IO], None], bool]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, path: Path, write: Callable[[IO], None], binary: bool) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guidegen-cache-writer", daemon=True)
                self._thread.start()
        self._jobs.put((path, write, binary))

    def flush(self) -> None:
        if self._thread is not None:
            self._jobs.join()

    def _run(self) -> None:
        while True:
            path, write, binary = self._jobs.get()
            try:
                write_atomically(path, write, binary=binary)
            except OSError:
                pass  # a read-only or full cache directory only costs the next compile
            finally:
                self._jobs.task_done()


_later = _LaterWriter()


def write_later(path: Path, write: Callable[[IO], None], *, binary: bool) -> None:
    """:func:`write_atomically` on a background thread; ``OSError`` is dropped (the file is a cache).
    :func:`flush_writes` waits for every pending file."""
    _later.submit(path, write, binary)


def flush_writes() -> None:
    """Block until every :func:`write_later` file is written (also run at interpreter exit)."""
    _later.flush()
