"""Shared fixtures: where recorded data lives, and whether integration tests can run."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def read_data(name: str) -> str:
    return (DATA / name).read_text()
