"""``python -m bench_runner COMMAND``: one module per command under ``commands/``.

Exit codes: 0 ok; 1 a trial or command failed; 2 bad usage or a host that is not set up; 3 an
expected ordering or a calibration goal was violated, or a regression found, where asked
(--fail-on-violation, --fail-on-regression); 130/143 interrupted by Ctrl-C/SIGTERM. Errors are
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import NoReturn, Sequence

from .errors import BenchError


class Interrupted(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so every ``finally`` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: Shown under every command's --help, and in the README.
EXIT_CODES = ("Exit codes: 0 ok; 1 a trial or command failed; 2 bad usage, an unreadable or invalid file, or a "
              "host that is not set up (run scripts/setup.sh); 3 an expected ordering or a calibration goal was "
              "violated, or a regression found, where asked (--fail-on-violation, --fail-on-regression; a failure, "
              "1, comes first); 130/143 interrupted (Ctrl-C/SIGTERM), after removing everything the run created.")


def _unset(default: object) -> bool:
    """No default worth stating (0 is one; False, None and [] are not)."""
    return default is None or default is False or default is argparse.SUPPRESS or default == []


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already states it or there
    is none to state (a flag that is off, an option that is unset)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or "%(default)" in text:
            return text
        if _unset(action.default) or isinstance(action, argparse._HelpAction):
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        return text + " (default: %(default)s)"

    def _format_text(self, text: str) -> str:
        # Descriptions get the same %-formatting as option help, so "95%%" reads "95%".
        return super()._format_text(text.replace("%%", "%") if "%(" not in text else text)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with a pointer to --help) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version_line() -> str:
    """The suite's version and, in a git checkout, its commit: what a bug report should quote."""
    from . import __version__
    from .stacks.detect import suite_commit

    return f"podman-netbench {__version__} (commit {suite_commit() or 'unknown'})"


class VersionAction(argparse.Action):
    """``--version``: asks git for the commit only when it is given."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(version_line())
        parser.exit(0)


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


#: How the CLI is started: ``python -m bench_runner``, or the console script of an installed copy.
MODULE_PROG = "python -m bench_runner"
SCRIPT_PROG = "podman-netbench"


def build_parser(prog: str = MODULE_PROG) -> Parser:
    from .commands import COMMANDS

    parser = Parser(
        prog=prog,
        description="Benchmark suite for rootless Podman networking: measures pasta, slirp4netns "
                    "(rootlesskit or slirp4netns port handler), host networking and socket activation "
                    "on identical workloads in a two-host lab of network namespaces, ranks them with "
                    "distribution-free intervals, and checks the claims of the podman-networking-docs guide.",
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction,
                        help="print the suite's version and git commit (unknown outside a git checkout), and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION, epilog=EXIT_CODES,
                                 formatter_class=HelpFormatter)
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = MODULE_PROG) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return int(args.handler(args) or 0)
    except BenchError as exc:
        print(f"bench_runner: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bench_runner: interrupted (Ctrl-C); everything the run created was removed", file=sys.stderr)
        return 130
    except Interrupted as exc:
        print(f"bench_runner: interrupted ({exc}); everything the run created was removed", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def console_main() -> NoReturn:
    """The ``podman-netbench`` console script of an installed copy (``pip install .``)."""
    sys.exit(main(prog=SCRIPT_PROG))
