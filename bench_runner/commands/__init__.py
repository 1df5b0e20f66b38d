"""One module per command, each with HELP, DESCRIPTION, add_arguments() and main().

May import: every package (only ``cli`` imports this one).
"""

from __future__ import annotations

from types import ModuleType

from . import calibrate, compare, doctor, history, list_ids, passt, publish, record, report, run, stack

COMMANDS: dict[str, ModuleType] = {
    "run": run,
    "list": list_ids,
    "doctor": doctor,
    "record": record,
    "publish": publish,
    "history": history,
    "compare": compare,
    "calibrate": calibrate,
    "report": report,
    "stack": stack,
    "passt": passt,
}
