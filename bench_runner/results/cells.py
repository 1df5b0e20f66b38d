"""A cell as the results document keys it: a workload (or a swept variant of one), a
placement, a method and the stack whose software ran the server side. The matrix makes
cells; the document, the analysis and the outputs read them."""

from __future__ import annotations

from dataclasses import dataclass

#: The stack every run has without booting one: this machine's own installed software.
HOST_STACK = "host"


@dataclass(frozen=True, order=True)
class Cell:
    workload: str
    placement: str
    method: str
    #: Whose software runs the server side: this machine's ("host") or a booted stack's.
    stack: str = HOST_STACK

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.placement}/{stack_label(self.method, self.stack)}"


def stack_label(method: str, stack: str) -> str:
    """A method as measured under a stack: "pasta" on this machine, "pasta@trixie" in a stack."""
    return method if stack == HOST_STACK else f"{method}@{stack}"
