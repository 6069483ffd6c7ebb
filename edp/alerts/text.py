"""One-line reasons for alerts: first line only, trimmed, secrets and personal values masked.

An alert's reason goes to a webhook and into e-mail: it must never carry a
password, a token, a key, a phone or ID-card number, or a traceback.
"""

from __future__ import annotations

import re

REASON_LIMIT = 300
MASK = "***"

# scheme://user:password@host → scheme://***@host
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
# key=value pairs (query strings, DSNs, log lines) whose name says they are secret.
_SECRET_PAIR = re.compile(
    r"(?i)\b((?:[a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|app[_-]?key|access[_-]?key|signature))"
    r"|key|sign)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&;,]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{6,}")
# 中国大陆 mobile numbers and 18-digit resident ID numbers (公民身份号码).
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


def redact(text: str) -> str:
    """``text`` with credentials in URLs, secret-named values, bearer tokens, phone and ID numbers masked."""
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _SECRET_PAIR.sub(rf"\1\2{MASK}", text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    text = _MOBILE.sub(MASK, text)
    return _ID_CARD.sub(MASK, text)


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """The first non-empty line of ``text``, whitespace collapsed, redacted, at most ``limit`` characters."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = redact(" ".join(line.split()))
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def describe_exception(exc: BaseException | str | None, limit: int = REASON_LIMIT) -> str:
    """``Type: first line of the message`` (no traceback), as an alert's reason."""
    if exc is None:
        return "failed (no exception recorded)"
    if isinstance(exc, str):
        return one_line(exc, limit) or "failed"
    message = one_line(str(exc), limit)
    name = type(exc).__name__
    return one_line(f"{name}: {message}" if message else name, limit)
