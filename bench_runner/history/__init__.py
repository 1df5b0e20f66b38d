"""History across stack snapshots, kept in asv.

Each distinct stack (kernel, Podman, passt, slirp4netns, rootlesskit, iperf3, the facts a
user states with ``run --stack``, and the provider that ran the methods) is one commit of a
small synthetic git repository, the *stack history*; asv sees that repository as "the
project", so every stack is one point on asv's x-axis, dated by its first measurement and
tagged with its versions. Samples of results documents are written into asv's own result
files under that commit (``record``), so ``asv publish``, ``asv compare`` and ``asv show``
work on them as on any asv project.

Modules: ``config`` (where asv keeps things), ``snapshots`` (stack identity and the git
repository), ``machine`` (kernel-independent machine info), ``specs`` (one asv benchmark
per workload metric), ``asvfiles`` (asv's result files), ``record`` (a document into
history), ``publish`` (the HTML site), ``regressions`` (asv's regressions by each metric's
direction), ``site`` and ``pagefixes`` (the pages, self-contained and corrected), ``serve``
(the site on 127.0.0.1), ``asvbench`` (what ``benchmarks/`` runs under asv). A history shared
by several machines (``shared``: ``history pull``/``push``) goes through ``sharedgit`` (the
transport), ``sharedtree`` (the files that travel), ``stackmerge`` (one line of snapshots),
``resultmerge`` (no sample lost, none counted twice) and ``mergeplan`` (applied whole).
``sides`` reads the two sides of ``compare`` (a results document, or a stack snapshot).

May import: analysis, methods, results, run, stacks, workloads.
"""
