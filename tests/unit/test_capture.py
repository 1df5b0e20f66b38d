"""--capture: which tool captures which method, the spec option pasta turns into --pcap,
and how a kept file is described."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from bench_runner.run import capture
from bench_runner import methods
from bench_runner.errors import UsageError
from bench_runner.run.matrix import Cell
from bench_runner.methods import host, pasta, slirp4netns_rootlesskit
from bench_runner.methods.base import BareArgs
from bench_runner.parsers import pcap
from bench_runner.workloads.serverspec import PCAP, ServerSpec, UnsupportedOption

DATA = Path(__file__).resolve().parents[1] / "data"
SPEC = ServerSpec(("iperf3", "-s"), 5201, host_port=15201)


def test_kinds_parse_and_unknown_is_refused() -> None:
    assert capture.parse_kinds(["pcap", "perf,pcap"]) == ("pcap", "perf")
    assert capture.parse_kinds(None) == ()
    with pytest.raises(UsageError, match="--capture 'tcp': unknown kind; valid: pcap, perf"):
        capture.parse_kinds(["tcp"])


def test_pasta_captures_itself_under_both_providers() -> None:
    spec = ServerSpec(SPEC.argv, 5201, host_port=15201, options=(f"{PCAP}:/run/user/1001/c.pcap",))
    assert pasta.METHOD.podman_network(spec) == "pasta:--pcap,/run/user/1001/c.pcap"
    argv = pasta.METHOD.bare_argv(BareArgs(spec, "pasta", netns_pid=42, pid_file="/p"))
    assert argv[argv.index("--pcap") + 1] == "/run/user/1001/c.pcap"
    assert "--pcap" not in pasta.METHOD.bare_argv(BareArgs(SPEC, "pasta", netns_pid=42, pid_file="/p"))


def test_a_user_variant_of_pasta_captures_itself_too() -> None:
    variant = pasta.METHOD.derive("pasta-mtu1500", "x", ("--mtu", "1500"), None)
    assert variant.writes_pcap
    spec = ServerSpec(SPEC.argv, 5201, options=(f"{PCAP}:/c.pcap",))
    assert variant.podman_network(spec) == "pasta:--pcap,/c.pcap,--mtu,1500"


@pytest.mark.parametrize("method", [host.METHOD, slirp4netns_rootlesskit.METHOD])
def test_a_method_whose_helper_cannot_capture_refuses_the_option(method) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedOption, match="does not capture packets itself"):
        method.podman_network(ServerSpec(SPEC.argv, 5201, options=(f"{PCAP}:/c.pcap",)), "n")


def test_tool_per_method() -> None:
    tools = {m.id: ("pasta --pcap" if m.writes_pcap else "tcpdump") for m in methods.BUILTIN}
    assert tools["pasta"] == "pasta --pcap"
    assert {k for k, v in tools.items() if v == "pasta --pcap"} == {"pasta"}


def test_file_names_say_the_cell() -> None:
    assert capture.file_name(Cell("tcp-rr", "remote", "pasta", "host"), "pcap") == "tcp-rr-remote-pasta.pcap"
    assert (capture.file_name(Cell("tcp-rr", "loopback", "bridge", "trixie"), "perf")
            == "tcp-rr-loopback-bridge@trixie.perf.data")


def test_a_kept_file_is_described_and_a_partial_last_record_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    data = (DATA / "pasta-pcap-tcp-stream.pcap").read_bytes()
    path.write_bytes(data[:-3])
    record = capture.Capture("pcap", "pasta --pcap", "tcp-stream", "remote", "pasta", "host")
    capture.settle_pcap(record, path, original=100_000_000)
    assert record.packets == 7 and record.truncated and record.link_type == "Ethernet"
    assert pcap.summarize(path.read_bytes()).snaplen == capture.SNAPLEN
    assert record.bytes == path.stat().st_size < len(data)
    assert record.to_json()["original_bytes"] == 100_000_000 and "report_text" not in record.to_json()


def test_a_file_that_is_not_pcap_is_a_measurement_error(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(b"not a capture at all, just text")
    record = capture.Capture("pcap", "tcpdump", "tcp-stream", "remote", "host", "host")
    with pytest.raises(capture.MeasurementError, match="not a pcap file"):
        capture.settle_pcap(record, path, original=31)


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed (scripts/setup.sh installs it)")
def test_recorded_captures_open_in_tcpdump() -> None:
    import subprocess

    for name in ("pasta-pcap-tcp-stream.pcap", "tcpdump-any-tcp-stream.pcap"):
        result = subprocess.run(["tcpdump", "-n", "-r", str(DATA / name)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert "198.51.100.2" in result.stdout


def test_perf_report_is_cut_to_samples_header_and_top_entries() -> None:
    text = ("# To display the perf.data header info, please use --header/--header-only options.\n#\n"
            "# Samples: 720  of event 'cpu-clock:pppH'\n# Event count (approx.): 722166480\n#\n"
            "# Overhead  Command     Shared Object      Symbol    \n# ........  ..........  ......\n#\n"
            "    41.53%  passt.avx2  [kernel.kallsyms]  [k] _copy_to_iter   \n"
            "     8.47%  passt.avx2  [kernel.kallsyms]  [k] _copy_from_iter\n\n")
    top = capture.report_top(text, lines=3)
    assert top.splitlines() == ["Samples: 720  of event 'cpu-clock:pppH'", "Overhead  Command     Shared Object      Symbol",
                                "    41.53%  passt.avx2  [kernel.kallsyms]  [k] _copy_to_iter"]


def test_a_whole_small_capture_is_not_marked_truncated(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    data = (DATA / "pasta-pcap-tcp-stream.pcap").read_bytes()
    path.write_bytes(data)
    record = capture.Capture("pcap", "pasta --pcap", "tcp-stream", "remote", "pasta", "host")
    capture.settle_pcap(record, path, original=len(data))
    assert record.packets == 8 and not record.truncated


class _Session:
    """What capture_for reads of a session: no stack, a private directory."""

    stack = None

    def __init__(self, root: Path) -> None:
        self.root = root

    def private_dir(self, name: str) -> Path:
        return self.root / name


def test_pasta_is_captured_on_both_sides_of_one_client_run(tmp_path: Path) -> None:
    cell = Cell("tcp-stream-reverse", "remote", "pasta", "host")
    parts = capture.capture_for("pcap", _Session(tmp_path), cell, tmp_path, 1)  # type: ignore[arg-type]
    assert [(r.tool, type(c).__name__, p.name) for r, c, p in parts] == [
        ("pasta --pcap", "HelperPcap", "tcp-stream-reverse-remote-pasta.pcap"),
        ("tcpdump in the server host", "TcpdumpPcap", "tcp-stream-reverse-remote-pasta-link.pcap")]
    together = capture.Together([c for _, c, _ in parts])
    adjusted = together.adjust(SPEC)
    assert adjusted.options == (f"{PCAP}:{tmp_path / 'capture1' / 'frames.pcap'}",)  # only pasta's changes the server
    [(record, _, path)] = capture.capture_for("pcap", _Session(tmp_path), Cell("tcp-stream", "remote", "host", "host"),
                                              tmp_path, 2)  # type: ignore[arg-type]
    assert record.tool == "tcpdump in the server host" and path.name == "tcp-stream-remote-host.pcap"


def test_captures_taken_together_are_all_running_while_the_client_runs() -> None:
    events: list[str] = []

    class Part(capture.TrialCapture):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        @contextlib.contextmanager
        def during(self, carrier_pid):  # type: ignore[no-untyped-def]
            events.append(f"start {self.name}")
            yield
            events.append(f"stop {self.name}")

    with capture.Together([Part("a"), Part("b")]).during(7):
        events.append("client")
    assert events == ["start a", "start b", "client", "stop b", "stop a"]
