"""Local stand-ins ("sandbox") for department systems the platform talks to.

Not production code. Each stand-in is a real HTTP server on loopback that speaks
its department's contract (``/work/shared/interfaces/*.md``) exactly, with
deterministic, realistic Haicheng data and fault switches, so that production
connectors cannot tell it from the real system.

- :mod:`standins.weather`, ``water``, ``police``, ``natural_resources``,
  ``transport``, ``bureau`` -- one package per department (see README.md).
- :mod:`standins.anshan` -- 鞍山市 exchange API (receiving side).
- :mod:`standins.server` -- run an app on a free port in a thread (tests).
- :mod:`standins.serve` -- all of them in one foreground process (``python -m
  standins serve``), which ``edp sandbox up`` starts in the background.
"""

from __future__ import annotations
