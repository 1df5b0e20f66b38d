"""How long a run will take, said before it starts and kept honest while it runs: the fixed
rounds, the extra rounds it may add (an upper bound, since they depend on the data), the
claims probes and the capture trials after them. Before any trial the time per trial is a
prior; once trials finish, their mean replaces it. A ``--udp-rate max`` trial is a search of
several probes, each a short client run through a fresh server (udpmax.py): it is counted as
the probes it takes, about EXPECTED_PROBES, at most MAX_PROBES. Pure arithmetic, tested
without a run.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import udpmax

#: Priors, measured on the reference machine (2 cores) from the phases a results document
#: records (run.phases_s): seconds a trial takes beyond its measured seconds (server and
#: helper start, client start, teardown: 0.2 s under the bare helpers, 20 trials in 84.2 s;
#: about 0.9 s with --provider auto, most methods through this machine's Podman 4.3.1, 98
#: trials of 1 s in 185 s and 98 of 3 s + 1 s in 484 s, set-up included, other work beside
#: it), one claims probe (20 in 6.2 s bare, more through Podman), a stack boot.
TRIAL_OVERHEAD_S = 0.9
PROBE_S = 1.0
STACK_BOOT_S = 20.0
#: Claims probes per method (device binding, port floor; host loopback and outbound where
#: the container has a network of its own).
PROBES_WITHOUT_NETWORK = 2
PROBES_WITH_NETWORK = 4


@dataclass(frozen=True)
class Work:
    """What a run will do, counted before it starts."""

    trials: int  # warm-up and fixed rounds
    extra_trials: int  # at most, if every family keeps adding rounds to --max-rounds
    probes: int
    capture_trials: int
    stack_boots: int
    trial_s: float  # seconds a trial measures (duration + omit)
    #: Of ``trials`` and ``extra_trials``, those that search for ``--udp-rate max``, and the
    #: seconds each of their probes measures.
    search_trials: int = 0
    search_extra_trials: int = 0
    probe_s: float = 0.0
    #: --time-budget: no extra round starts that would end the trials past it (None: no limit).
    time_budget_s: float | None = None

    def prior_trial_s(self) -> float:
        return self.trial_s + TRIAL_OVERHEAD_S

    def search_trial_s(self, probes: int) -> float:
        """A search of ``probes`` probes, each costing what a trial costs beyond its measurement."""
        return probes * (self.probe_s + TRIAL_OVERHEAD_S)

    def upper_why(self) -> str:
        """What can make the run take longer than expected, for ``describe``."""
        parts = (["extra rounds"] if self.extra_trials else []) + (
            ["the longest --udp-rate max searches"] if self.search_trials else [])
        why = "with " + " and ".join(parts) if parts else "with extra rounds"
        if self.extra_trials and self._budget_binds():
            why += f" (the --time-budget of {self.time_budget_s / 60:g} min stops them)"
        return why

    def _budget_binds(self) -> bool:
        expected, most = self._trial_seconds()
        return self.time_budget_s is not None and expected < self.time_budget_s < most

    def after_trials_s(self, per_trial: float) -> float:
        """The claims probes and capture trials, which follow the measured trials. A capture
        trial measures 1 s; it costs what a trial costs beyond its measured seconds."""
        overhead = max(per_trial - self.trial_s, 0.0)
        return self.probes * PROBE_S + self.capture_trials * (1.0 + overhead)

    def seconds(self) -> tuple[float, float]:
        """(expected, at most) before the run: fixed rounds, then with every extra round, or as
        many as the time budget lets start."""
        base = self.stack_boots * STACK_BOOT_S + self.after_trials_s(self.prior_trial_s())
        expected, most = self._trial_seconds()
        if self.time_budget_s is not None:
            most = max(expected, min(most, self.time_budget_s))
        return base + expected, base + most

    def _trial_seconds(self) -> tuple[float, float]:
        """(the fixed rounds, with every extra round) in seconds of trials."""
        per_trial = self.prior_trial_s()
        plain, plain_extra = self.trials - self.search_trials, self.extra_trials - self.search_extra_trials
        expected = plain * per_trial + self.search_trials * self.search_trial_s(udpmax.EXPECTED_PROBES)
        most = ((plain + plain_extra) * per_trial
                + (self.search_trials + self.search_extra_trials) * self.search_trial_s(udpmax.MAX_PROBES))
        return expected, most


def probes_for(methods_with_network: int, methods_without_network: int) -> int:
    return methods_with_network * PROBES_WITH_NETWORK + methods_without_network * PROBES_WITHOUT_NETWORK


def left(done: int, total: int, max_total: int, elapsed_at_done: float, now: float,
         after_s: float, budget_left_s: float | None = None) -> tuple[float, float] | None:
    """(expected, at most) seconds left: the mean time per finished trial times the trials
    still to run, less what the trial in progress has taken, plus what follows the trials;
    at most: as if every extra round the run may add were run, or as many as start within
    ``budget_left_s`` (--time-budget, less what earlier sessions of a resumed run spent) from
    this session's start. None before a trial finished."""
    if done <= 0:
        return None
    per_trial = elapsed_at_done / done
    running_for = min(max(0.0, now - elapsed_at_done), per_trial)
    expected_trials = max(0.0, (total - done) * per_trial - running_for)
    most_trials = max(0.0, (max(max_total, total) - done) * per_trial - running_for)
    if budget_left_s is not None:
        most_trials = max(expected_trials, min(most_trials, budget_left_s - now))
    return expected_trials + after_s, most_trials + after_s


def describe(seconds: tuple[float, float], clock, why: str = "with extra rounds") -> str:  # type: ignore[no-untyped-def]
    """ "about 12m05s" or "about 12m05s, up to 19m40s with extra rounds" """
    expected, most = seconds
    text = f"about {clock(expected)}"
    if most > expected * 1.05 + 5:
        text += f", up to {clock(most)} {why}"
    return text
