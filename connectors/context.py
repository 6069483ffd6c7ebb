"""What a connector is given to build itself: its configuration, nothing global.

Connectors never read settings or the environment; ``edp.ingest.sources`` builds a
``SourceContext`` from ``sources.yml`` and the platform's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.limits import Limits


@dataclass(frozen=True)
class SourceContext:
    name: str
    # Where the source is: an HTTP base URL, a SQLAlchemy URL, a directory or s3:// prefix.
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    # credential("api_key") -> the configured (or generated) value.
    credential: Callable[[str], str] = lambda key: ""
    # The keyed-pseudonym secret (police.md): configured, or generated into $EDP_HOME.
    pii_key: Callable[[], bytes] = lambda: b""
    # A folder the connector may use for local working files.
    work_dir: Path | None = None
    # Settings a connector may need from the platform (lookbacks, initial windows).
    params: dict[str, Any] = field(default_factory=dict)
    # Bounds on what the source may send (sources.yml `limits:`, defaults in connectors.limits).
    limits: Limits = field(default_factory=Limits)
    # Set when the source is only being checked (`edp sources check`): one attempt, at most this many seconds
    # to connect and as many to answer, no retries. None: the connector's own budget, the ingest's retries.
    check_timeout: float | None = None
