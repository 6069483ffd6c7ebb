"""Long-running processes of one EDP_HOME: started in their own session, found again by pidfile.

Each process has ``$EDP_HOME/services/<name>.json`` (pid, argv, the kernel's
start time of the pid) and ``<name>.log``. A recorded pid counts only while the
pid still has that start time, so a reused pid is never signalled (argv cannot
tell: Airflow's components rename themselves with setproctitle).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edp.runtime.processes import kill_session, pid_alive, session_members, terminate

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Background:
    """A named long-running command of one home: where its pidfile and log are, and how to recognise it."""

    name: str
    folder: Path

    @property
    def pidfile(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def _record(self) -> tuple[int, int | None] | None:
        """The recorded pid and its start time, or None."""
        try:
            info = json.loads(self.pidfile.read_text(encoding="utf-8"))
            return int(info["pid"]), info["start_ticks"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def pid(self) -> int | None:
        """The running process's pid, or None (a stale pidfile is removed)."""
        record = self._record()
        if record is None:
            return None
        pid, started = record
        if pid_alive(pid) and start_ticks(pid) == started:
            return pid
        if pid_alive(pid) or not session_members(pid, started):
            # Kept while its session has members left (see stop): they are still to be stopped.
            self.pidfile.unlink(missing_ok=True)
        return None

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
        """Start ``argv`` in its own session, output appended to the log; its pid.

        What is left of an earlier run under this name (its leader gone) is stopped first.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stop()
        with self.log.open("ab") as out:
            out.write(f"\n$ {' '.join(argv)}  # {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        record = {"pid": proc.pid, "start_ticks": start_ticks(proc.pid), "argv": list(argv), "started": time.time()}
        self.pidfile.write_text(json.dumps(record))
        return proc.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM its process group, SIGKILL after ``timeout``, then whatever is left of its session;
        whether anything of it was running.

        What is left: children in a process group of their own (Airflow's task
        runners), also when the leader itself is gone (a killed worker's tasks).
        The session keeps the leader's pid as its id while a member lives, so no
        other program's process has it; a pid reused by another program is left alone.
        """
        record = self._record()
        if record is None:
            return False
        pid, started = record
        leader = pid_alive(pid)
        if leader and start_ticks(pid) != started:  # the pid is another program's now
            self.pidfile.unlink(missing_ok=True)
            return False
        if leader:
            terminate(pid, timeout, group=True)
        left = kill_session(pid, since=started)
        self.pidfile.unlink(missing_ok=True)
        return leader or bool(left)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def last_error_line(self) -> str:
        """The log's last line that looks like a cause (an exception or error), for one-line messages."""
        for line in reversed(self.log_tail(200).splitlines()):
            text = line.strip()
            if text and ("Error" in text or "error" in text or "Exception" in text):
                return text[:300]
        return ""


def start_ticks(pid: int) -> int | None:
    """When the kernel started ``pid`` (clock ticks since boot): with the pid, a process's identity."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def processes_with_env(entry: str) -> list[int]:
    """Live processes (not this one) whose environment holds ``entry`` exactly, e.g. ``AIRFLOW_HOME=/x``."""
    wanted = entry.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ and pid_alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def process_tree(roots: list[int]) -> dict[int, int | None]:
    """Every live descendant of ``roots`` (the roots included), with its start ticks.

    Taken before a service is stopped: a child that starts a session of its own (Airflow's task
    supervisors do) is not in the service's process group, and once its parent is gone it is
    reparented and no longer to be found by descent. ``setproctitle`` rewrites argv and environ,
    so neither can find it either.
    """
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[-1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    tree: dict[int, int | None] = {}
    todo = [pid for pid in roots if pid_alive(pid)]
    while todo:
        pid = todo.pop()
        if pid in tree:
            continue
        tree[pid] = start_ticks(pid)
        todo.extend(children.get(pid, []))
    return tree


def sweep(tree: dict[int, int | None], timeout: float = 15.0) -> list[int]:
    """Stop what is left of ``tree`` (same pid, same start ticks); their pids."""
    left = [pid for pid, ticks in tree.items() if pid_alive(pid) and start_ticks(pid) == ticks]
    for pid in left:
        terminate(pid, timeout)
    return left
