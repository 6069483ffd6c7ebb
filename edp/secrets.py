"""Secrets: configured values win; on the embedded default one is generated once.

A generated secret lives in ``$EDP_HOME/secrets/<name>`` with mode 0600 so the
sandbox stand-ins and the platform agree on it without it ever entering git.
"""

from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path

from edp.settings import Settings, credential


def _secret_file(settings: Settings, name: str) -> Path:
    folder = settings.home_dir / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / name


def generated_secret(settings: Settings, name: str, nbytes: int = 24) -> str:
    """Read the generated secret ``name``, creating it on first use."""
    path = _secret_file(settings, name)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = _secrets.token_urlsafe(nbytes)
    # Written whole under a private name, then linked into place: two processes or threads racing on first use
    # end with one value, and none reads the file before its value is in it (link fails when it exists).
    draft = path.with_name(f".{name}.{os.getpid()}.{_secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value)
        os.link(draft, path)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        draft.unlink(missing_ok=True)
    return value


def resolve_secret(settings: Settings, name: str, configured: str | None) -> str:
    """The configured value if any, else the generated one for ``name``."""
    return configured if configured else generated_secret(settings, name)


def source_credential(settings: Settings, source: str, key: str) -> str:
    """A source credential: the variable named in sources.yml, else generated."""
    cfg = settings.source(source)
    var = cfg.credentials.get(key)
    configured = credential(var) if var else None
    return resolve_secret(settings, f"{source}_{key}", configured)
