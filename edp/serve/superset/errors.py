"""The one error family of the Superset integration."""

from __future__ import annotations

from edp.errors import ToolFailed


class SupersetError(ToolFailed):
    """Superset could not be set up, started or queried."""
