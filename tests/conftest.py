"""Shared fixtures: where recorded data lives, and whether integration tests can run."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def only_builtin_methods_after_each_test():  # type: ignore[no-untyped-def]
    """Loading a results document defines the user-defined methods it recorded, for the
    process; a test must not hand them on to the next one."""
    yield
    from bench_runner import methods

    methods.forget_defined()


@pytest.fixture
def data_dir() -> Path:
    return DATA


def read_data(name: str) -> str:
    return (DATA / name).read_text()


def as_if_from_a_terminal() -> None:
    """``preexec_fn`` for a child that a test sends SIGINT, as Ctrl-C would: Ctrl-C reaches a
    command run in the foreground, whose SIGINT is at its default. A test suite started in the
    background of a script (``./scripts/run-tests.sh &``) inherits SIGINT ignored, and Python
    then installs no KeyboardInterrupt handler in the child: the signal would be lost."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
