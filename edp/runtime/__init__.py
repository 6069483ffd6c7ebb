"""Process handling written once: the background servers the platform starts
(Superset, the sandbox, the docs server) and the tools it runs (dbt)."""

from edp.runtime.processes import cmdline, pid_alive, port_in_use, terminate

__all__ = ["cmdline", "pid_alive", "port_in_use", "terminate"]
