"""Is a process alive, whose is it, and stop it: for servers started in their own session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; our own exited child is reaped first, and a zombie counts as dead."""
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def cmdline(pid: int) -> list[bytes]:
    """The process's argv, empty when it is gone or unreadable (guards against pid reuse)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def terminate(pid: int, timeout: float, *, group: bool = False, kill_after: float = 5.0) -> bool:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; ``group`` signals the process group
    (a server started with ``start_new_session`` and its workers). Returns whether it is gone."""
    send = os.killpg if group else os.kill
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, kill_after)):
        try:
            send(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
    return not pid_alive(pid)


def session_members(sid: int, since: int | None = None) -> list[int]:
    """The live pids of session ``sid`` started at or after clock tick ``since``: a server started
    with ``start_new_session`` and all it started, also what moved to a process group of its own."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            state, session, started = fields[0], int(fields[3]), int(fields[19])
        except (OSError, IndexError, ValueError):
            continue
        if session == sid and state != "Z" and (since is None or started >= since):
            members.append(int(entry.name))
    return members


def kill_session(sid: int, *, since: int | None = None, timeout: float = 5.0) -> list[int]:
    """SIGTERM every process left in session ``sid`` (see :func:`session_members`), SIGKILL what
    remains after ``timeout``; the pids found."""
    found = session_members(sid, since)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        alive = [pid for pid in found if pid_alive(pid)]
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in alive):
            time.sleep(0.05)
    return found


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0
