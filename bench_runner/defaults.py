"""The run's defaults that more than the command line needs: a resumed run, the stability
warnings, the claims and the reproduce command read them here, so they cannot drift apart."""

#: Target relative half-width of each median's 95% interval: reported (tables, warnings), it
#: no longer adds rounds (the decisions do, analysis/sequential.py).
PRECISION = 0.05
#: Two cells whose per-round ratio is shown inside [1 / (1 + MARGIN), 1 + MARGIN] are "within
#: the margin": a decided pair, like a separated one, needs no more rounds.
MARGIN = 0.05
#: How close to host (relative) counts as native performance.
TOLERANCE = 0.10
#: MTU of the lab's veth link.
MTU = 1500
#: What a run measures when --workloads is not given: TCP throughput both ways (the client
#: sending into the container, the container sending to it) and round trips.
WORKLOADS = "tcp-stream,tcp-stream-reverse,tcp-rr"
#: The pasta binary of the bare provider.
PASTA = "pasta"
#: Measured rounds every cell gets: 10 gives [x(2), x(9)] (97.9%) and lets a family of eight
#: verdicts pass Holm's procedure when every round agrees.
ROUNDS = 10
#: Rounds at most, adding whole families while an interval is wider than the precision.
MAX_ROUNDS = 15
