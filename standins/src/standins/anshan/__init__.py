"""Stand-in for the 鞍山市应急管理局 exchange API (the city's receiving side).

Contract: ``/work/shared/interfaces/anshan.md``. Build an app with
:func:`sandbox.anshan.app.create_app`; sign requests with
:func:`sandbox.anshan.auth.signed_headers`.
"""

from __future__ import annotations

from standins.anshan.app import AnshanFaults, create_app
from standins.anshan.auth import signed_headers

__all__ = ["AnshanFaults", "create_app", "signed_headers"]
