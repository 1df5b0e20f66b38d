"""asv benchmarks of podman-netbench (see asv.conf.json and bench_runner/history).

asv imports this package from a temporary directory and makes only the package itself
importable; the suite is not installed into its interpreter, so its top directory goes on
sys.path here.
"""

import sys
from pathlib import Path

_TOP = str(Path(__file__).resolve().parents[1])
if _TOP not in sys.path:
    sys.path.insert(0, _TOP)
