"""Pieces shared by the stand-ins: clock, determinism, faults, HTTP helpers."""

from __future__ import annotations
