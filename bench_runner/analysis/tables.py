"""Ranked tables for the terminal (and, with ``tablefmt="github"``, for Markdown)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from .ranking import RankTable

if TYPE_CHECKING:
    from .directions import DirectionTable


def fmt(value: float | None, digits: int = 3) -> str:
    """Three significant digits, no scientific notation for ordinary magnitudes."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def fmt_interval(low: float | None, high: float | None, level: float | None = None) -> str:
    """ "[10.9, 14.5]"; an interval below the nominal 95% carries its true level: "[3.1, 4.0] (75%)"."""
    if low is None or high is None:
        return "-"
    text = f"[{fmt(low)}, {fmt(high)}]"
    if level is not None and level < 0.95 - 1e-12:
        text += f" ({level * 100:.3g}%)"
    return text


def fmt_with_interval(value: float | None, low: float | None, high: float | None) -> str:
    """ "13.3 [10.9, 14.5]", or just the value when there is no interval."""
    if low is None or high is None:
        return fmt(value)
    return f"{fmt(value)} {fmt_interval(low, high)}"


def title(table: RankTable) -> str:
    direction = "higher is better" if table.higher_is_better else "lower is better"
    return f"{table.workload} / {table.placement}: {table.metric} in {table.unit} ({direction})"


RANK_HEADERS = ["rank", "method", "median", "95% CI", "vs host", "95% CI", "n", "carried by", "server saw"]


def rank_rows(table: RankTable) -> list[list[str]]:
    """The cells of one ranked table, one row per ranked method (best first), as text, so the
    terminal, Markdown and HTML all show the same figures."""
    rows = []
    for row in table.rows:
        vs = row.vs_baseline
        rows.append([
            row.rank,
            row.label,
            fmt(row.summary.median) + (f" ({LIMITED})" if row.path_limited else ""),
            fmt_interval(row.summary.ci_low, row.summary.ci_high, row.summary.ci_level),
            "1 (baseline)" if row.is_baseline else (fmt(vs.value) if vs else "-"),
            fmt_interval(vs.ci_low, vs.ci_high, vs.level) if vs else "",
            f"{row.summary.n}" + (f" ({row.failed_trials} failed)" if row.failed_trials else ""),
            (", ".join(row.listeners) or "-") + (f" ({row.provider})" if row.provider_differs else ""),
            ", ".join(row.peers) or "-",
        ])
    return rows


#: Under every ranked table: what its interval and rank columns mean.
RANK_NOTE = ("95% CI of the median: an order-statistic interval that covers the true median at least 95% of the "
             "time at its n (below 6 trials: [min, max], with its true level in parentheses; '-': too few trials, "
             "or every reading the same); vs host: the geometric mean of per-round ratios to host in the same "
             "stack, with a t interval that covers at least 95% whatever rounds the run added; rank: the places "
             "the data allow after comparing every pair the same way (2-3: not separated from rank 2 or 3)")


def provider_notes(table: RankTable) -> list[str]:
    """Why a row ran through another provider than the rest (marked in "carried by")."""
    return [f"{label}: through the {'bare helpers' if provider == 'bare' else provider}, as {why}"
            for label, provider, why in table.other_providers]


LIMITED = "limited by the path"


def limited_notes(table: RankTable) -> list[str]:
    """Each row within 10% of the shaped path's own limit, with that limit."""
    return [f"{row.label}: {row.path_limited}" for row in table.rows if row.path_limited]


def render(table: RankTable, *, tablefmt: str = "simple") -> str:
    text = tabulate(rank_rows(table), headers=RANK_HEADERS, tablefmt=tablefmt, disable_numparse=True)
    others = provider_notes(table)
    if others:
        text += "\nprovider:\n" + "\n".join(f"  {line}" for line in others)
    notes = [f"  {method}: {why}" for method, why in table.unranked]
    if notes:
        text += "\nnot ranked:\n" + "\n".join(notes)
    limited = limited_notes(table)
    if limited:
        text += ("\nwithin 10% of the path's own limit (the method's figure is the path's, not its own):\n"
                 + "\n".join(f"  {note}" for note in limited))
    return text


def extra_rows(table: RankTable, units: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """A method's other metrics (median and interval), e.g. retransmits or p99, with units
    from the document: headers and rows; no columns when the workload records none."""
    metrics = list(dict.fromkeys(metric for row in table.rows for metric in row.extra))
    headers = ["method", *(f"{m} ({units[m]})" if units.get(m) else m for m in metrics)]
    rows = []
    for row in table.rows:
        cells = [row.label]
        for metric in metrics:
            summary = row.extra.get(metric)
            cells.append("-" if summary is None else fmt_with_interval(summary.median, summary.ci_low, summary.ci_high))
        rows.append(cells)
    return headers, (rows if metrics else [])


def render_all(tables: list[RankTable], *, tablefmt: str = "simple") -> str:
    text = "\n\n".join(f"{title(t)}\n{render(t, tablefmt=tablefmt)}" for t in tables)
    return f"{text}\n{RANK_NOTE}" if tables else text


def direction_title(table: "DirectionTable") -> str:
    forward = table.forward
    direction = "higher is better" if forward.higher_is_better else "lower is better"
    return (f"both directions / {table.placement}: {forward.metric} in {forward.unit} ({direction}), "
            f"{table.words(forward)} and {table.words(table.reverse)}")


def direction_rows(table: "DirectionTable") -> tuple[list[str], list[list[str]]]:
    """Headers and rows of one direction table: each method's median, interval and rank in
    each direction, and the reverse against the forward direction round by round."""
    headers = ["method", table.words(table.forward), "rank", table.words(table.reverse), "rank",
               "reverse / forward", "95% CI"]
    rows = []
    for row in table.rows:
        cells = [row.label]
        for half in (row.forward, row.reverse):
            if half is None:
                cells += ["-", "-"]
            else:
                cells += [fmt_with_interval(half.summary.median, half.summary.ci_low, half.summary.ci_high), half.rank]
        ratio = row.reverse_vs_forward
        cells += [fmt(ratio.value) if ratio else "-", fmt_interval(ratio.ci_low, ratio.ci_high, ratio.level) if ratio else ""]
        rows.append(cells)
    return headers, rows


DIRECTION_NOTE = ("reverse / forward: the geometric mean of the per-round ratios of the two directions (both ran "
                  "in the same rounds), with its paired t interval; far below 1, the method carries the second "
                  "direction much worse than the first")


def render_directions(tables: list["DirectionTable"], *, tablefmt: str = "simple") -> str:
    parts = []
    for table in tables:
        headers, rows = direction_rows(table)
        parts.append(f"{direction_title(table)}\n"
                     + tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True))
    return "\n\n".join(parts) + (f"\n{DIRECTION_NOTE}" if parts else "")


VERDICT_HEADERS = ["workload / placement", "expected", "ratio", "95% CI", "p (Holm)", "verdict"]
VERDICT_NOTE = ("ratio = the first against the second, the geometric mean of their per-round ratios; for metrics "
                "where lower is better, 'holds' needs the ratio below 1; p (Holm) = the paired t test's p-value "
                "(on the log ratios, divided by the share of 5% its look spent) adjusted over the family. The "
                "verdicts are one family per run: a pair holds or is violated only when that stays below 5%, so "
                "the chance of any false verdict in the table is at most 5%, however many rounds the run added; "
                "'unadjusted' shows where the pair's own 95% interval alone would have decided otherwise; 'within "
                "+/-5%' that the two were shown that close (both one-sided tests)")


def verdict_rows(verdicts: list) -> list[list[str]]:  # list[OrderingVerdict]
    """Every adjacent pair of one expectation, per workload and placement."""
    rows = []
    for verdict in verdicts:
        for pair in verdict.pairs:
            notes = [pair.why] if pair.why else []
            if pair.within is not None and pair.verdict == "inconclusive":
                notes.append(f"within +/-{pair.within * 100:g}%")
            if pair.raw_verdict and pair.raw_verdict != pair.verdict:
                notes.append(f"unadjusted: {pair.raw_verdict}")
            rows.append([
                verdict.where,
                f"{pair.better} > {pair.worse}",
                fmt(pair.ratio),
                fmt_interval(pair.ci_low, pair.ci_high, pair.level),
                "-" if pair.p_adjusted is None else f"{pair.p_adjusted:.2g}",
                pair.verdict + (f" ({'; '.join(notes)})" if notes else ""),
            ])
    return rows


def render_verdicts(verdicts: list, *, tablefmt: str = "simple") -> str:  # list[OrderingVerdict]
    """One table per expectation: every adjacent pair per workload and placement."""
    if not verdicts:
        return "no ordering could be judged (the methods it names were not measured)"
    rows = verdict_rows(verdicts)
    expectation = verdicts[0].expectation.replace(">", " > ")
    return (f"ordering {expectation}\n"
            f"{tabulate(rows, headers=VERDICT_HEADERS, tablefmt=tablefmt, disable_numparse=True)}\n{VERDICT_NOTE}")


def warning_lines(warnings: list) -> list[str]:  # list[stability.Warning_]
    """One line per distinct finding; cells that share it are listed together."""
    grouped: dict[str, list[str]] = {}
    for warning in warnings:
        grouped.setdefault(warning.text().split(": ", 1)[1], []).append(warning.cell)
    lines = []
    for text, cells in grouped.items():
        where = cells[0] if len(cells) == 1 else f"{len(cells)} cells ({', '.join(cells)})"
        lines.append(f"{where}: {text}")
    return lines


def render_warnings(warnings: list) -> str:  # list[stability.Warning_]
    if not warnings:
        return "no stability warnings"
    return "warnings:\n" + "\n".join(f"  - {line}" for line in warning_lines(warnings))


def render_family_warnings(lines: list, details: str) -> str:  # list[stability.FamilyLine]
    """The terminal's warnings: one line per workload and placement, then where every detail is."""
    if not lines:
        return "no stability warnings"
    return ("warnings (one line per workload and placement):\n" + "\n".join(f"  - {line.text()}" for line in lines)
            + f"\nevery warning, cell by cell: {details}")


def budget_line(run: dict[str, Any]) -> str | None:
    """Where the time budget ended the extra rounds (the document's run["time_budget_stop"]),
    in one line: a user reading undecided pairs should know the cap was not what stopped them."""
    stop = run.get("time_budget_stop")
    if not isinstance(stop, dict) or "budget_s" not in stop:
        return None
    return (f"time budget: no extra round started after {float(stop.get('spent_s', 0)):.0f} s of trials, as the "
            f"next ({stop.get('cells_waiting', '?')} trials, about {float(stop.get('next_round_s', 0)):.0f} s) would "
            f"have ended past --time-budget {float(stop['budget_s']) / 60:g} min; raise it to decide the pairs left "
            "undecided")


def machine_line(loads: list[dict[str, Any]]) -> str | None:  # the document's run["load"] records
    """How busy the machine was while the trials ran, in one line: the CPU time the hypervisor
    gave to other guests (steal) slows every method at random, which widens the intervals and
    makes a run take its extra rounds: a user reading a long or undecided run should see it."""
    steals = [r["steal_percent"] for r in loads if r.get("steal_percent") is not None]
    before = [r["before"]["loadavg"][0] for r in loads if (r.get("before") or {}).get("loadavg")]
    after = [r["after"]["loadavg"][0] for r in loads if (r.get("after") or {}).get("loadavg")]
    if not steals and not before:
        return None
    parts = []
    if before and after:
        parts.append(f"load average {before[0]:g} before the trials, {after[-1]:g} after")
    if steals:
        parts.append(f"CPU steal {max(steals):.1f}% of CPU time (the hypervisor ran other guests; it slows every "
                     "method at random, widening intervals and adding rounds)")
    return "machine while measuring: " + "; ".join(parts)


def claim_value(value: object) -> str:
    """A claim's documented or observed value in a word: yes, no, floor, below floor, ?."""
    if value is None:
        return "?"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value == 0:
        return "0"
    return {"ip_unprivileged_port_start": "floor", "below-floor refused": "floor",
            "below-floor allowed": "below floor", "baseline": "baseline"}.get(str(value), str(value))


CLAIMS_LEGEND = ("'?' = not observed or inconclusive; 'floor' = only ports >= ip_unprivileged_port_start; "
                 "'n/a' = the document makes no claim for the method and none was probed")
NOT_APPLICABLE_LEGEND = "'not applicable' = the method cannot be observed over that IP family (why: below the table)"


def claims_legend(cells: list) -> str:  # list[claims.MatrixCell]
    """The legend, naming "not applicable" only where a cell is."""
    return CLAIMS_LEGEND + ("; " + NOT_APPLICABLE_LEGEND if any(c.not_applicable for c in cells) else "")


def claim_title(claim: str, family: int, families: set[int]) -> str:
    """A claim's title, with its IP family where the run observed more than IPv4."""
    from .claims import CLAIMS

    title = CLAIMS[claim].title if claim in CLAIMS else claim
    return f"{title} (IPv{family})" if families != {4} else title


def claims_rows(cells: list) -> tuple[list[str], list[list[str]]]:  # list[claims.MatrixCell]
    """Claims x methods, each cell "documented / observed", marked where they disagree; a
    claim per IP family where the run observed IPv6 too."""
    from .claims import CLAIMS

    methods = list(dict.fromkeys(c.method for c in cells))
    families = {c.family for c in cells}
    by_key = {(c.claim, c.method, c.family): c for c in cells}
    rows = []
    for family in sorted(families):
        for claim in CLAIMS.values():
            row = [claim_title(claim.id, family, families)]
            for method in methods:
                cell = by_key.get((claim.id, method, family))
                if cell is not None and cell.not_applicable:
                    row.append(f"{claim_value(cell.documented)} / not applicable")
                    continue
                if cell is None or (cell.documented is None and cell.observed is None):
                    row.append("n/a")
                    continue
                mark = {True: "", False: " (DISAGREES)", None: ""}[cell.agrees]
                row.append(f"{claim_value(cell.documented)} / {claim_value(cell.observed)}{mark}")
            rows.append(row)
    return ["claim (documented / observed)", *methods], rows


def disagreement_lines(cells: list) -> list[str]:  # list[claims.MatrixCell]
    """Each disagreement with the document, with the evidence."""
    from ..results.cells import stack_label

    families = {c.family for c in cells}
    return [f"{stack_label(c.method, c.stack)}, {claim_title(c.claim, c.family, families)}: {c.evidence}"
            for c in cells if c.agrees is False]


def not_applicable_lines(cells: list) -> list[str]:  # list[claims.MatrixCell]
    """Why a method could not be observed over an IP family: once per method and reason."""
    from ..results.cells import stack_label

    found: dict[tuple[str, int, str], list[str]] = {}
    for c in cells:
        if c.not_applicable:
            found.setdefault((stack_label(c.method, c.stack), c.family, c.not_applicable), []).append(c.claim)
    return [f"{where} over IPv{family} ({', '.join(claim_title(k, family, {4}) for k in claims)}): {why}"
            for (where, family, why), claims in found.items()]


def claims_by_stack(cells: list) -> dict[str, list]:  # list[claims.MatrixCell] -> by stack
    """The claims matrix is given per stack: each stack's methods are their own column set."""
    found: dict[str, list] = {}
    for cell in cells:
        found.setdefault(cell.stack, []).append(cell)
    return found


def render_claims(cells: list, *, tablefmt: str = "simple") -> str:  # list[claims.MatrixCell]
    """A matrix per stack, claims x methods, each cell "documented / observed", then the
    evidence for every disagreement."""
    from ..results.cells import HOST_STACK

    parts = []
    by_stack = claims_by_stack(cells)
    for stack, mine in by_stack.items():
        headers, rows = claims_rows(mine)
        table = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
        if len(by_stack) > 1 or stack != HOST_STACK:
            table = f"claims under stack {stack}\n{table}"
        parts.append(table)
    lines = ["\n\n".join(parts), claims_legend(cells)]
    not_applicable = not_applicable_lines(cells)
    if not_applicable:
        lines.append("not applicable:")
        lines += [f"  - {line}" for line in not_applicable]
    disagreements = disagreement_lines(cells)
    if disagreements:
        lines.append("disagreements with the document:")
        lines += [f"  - {line}" for line in disagreements]
    return "\n".join(lines)
