"""Helpers shared by tests that need an outside tool (Java, Chromium)."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def need_tool(available: bool, what: str) -> None:
    """Skip on a developer machine without the tool; fail in CI, where `make test` installs it."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{what} is missing, and CI must run this check, so the test fails instead of skipping")
    pytest.skip(f"{what} is missing on this machine (make test installs it where it can)")
