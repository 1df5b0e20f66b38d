"""asv benchmarks: one ``track_<workload>_<metric>`` per metric of every workload in the
matrix, parametrised by method and placement, with the metric's unit.

``setup_cache`` runs the suite once per ``asv run`` (as root, after scripts/setup.sh;
options for ``bench_runner run`` in ``NETBENCH_ASV_RUN_ARGS``, e.g. "--quick" or
"--duration 10 --stack passt=custom-build"; the time limit in ``NETBENCH_ASV_TIMEOUT``,
seconds) and records the run under its stack snapshot; every benchmark then reports that
run's samples. The logic lives in ``bench_runner.history.asvbench``.
"""

from bench_runner.history import asvbench as _asvbench
from bench_runner.history import specs as _specs


def setup_cache():
    return _asvbench.measure_and_record()


setup_cache.timeout = _asvbench.timeout_s()

for _spec in _specs.all_specs():
    globals()[_spec.function] = _asvbench.make_track(_spec)
