"""Tools the platform runs for one command die with that command.

``kill -9`` of ``edp transform`` must not leave dbt building behind it, nor a rerun overlap a dbt that
is still writing the same tables. A SIGKILLed parent runs no handler and no ``atexit``, so only the
kernel can do it: on Linux the child asks for a signal when its parent dies (``PR_SET_PDEATHSIG``),
set between fork and exec. The servers started to outlive the command (``edp up``'s services, the
sandbox, Superset's web server, the embedded PostgreSQL) are started without it, in sessions of
their own (:mod:`edp.runtime.background`).

The death signal is SIGKILL rather than SIGTERM: a tool that traps SIGTERM to finish its work
(dbt finishing a model) is exactly what must not happen. Its half-done transaction is rolled back
by PostgreSQL when its connection closes.

Caveat of the kernel: the signal is sent when the *thread* that started the child ends. Every
caller here waits for its child in the thread that started it, so the two coincide.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_libc: ctypes.CDLL | None = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # no libc to load: children then only get what the platform gives
        _libc = None


def parent_death_signal_supported() -> bool:
    return _libc is not None


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``sig`` when this process dies.

    None where the kernel offers no such thing (then pass nothing). Also covers the race of the
    parent dying between fork and ``prctl``: the child then finds itself adopted and exits at once.
    """
    if _libc is None:
        return None
    libc = _libc
    parent = os.getpid()

    def preexec() -> None:
        # Runs in the forked child before exec: nothing here may import, lock or allocate much.
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec
