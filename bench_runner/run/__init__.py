"""One run, from request to document: the request and its options (``request``,
``runoptions``, ``presets``), the matrix of cells (``matrix``), the labs and sessions it
opens (``labsession``, ``lifecycle``, ``basertt``), the trials (``trials``: ``schedule``,
``executor``, ``observers``, ``writer``; ``udpmax``, ``capture``), the claims probes
(``claims_probe``), calibration, the time estimate and progress (``eta``, ``progress``), the stopping rule
replayed on a longer run's own trials (``replay``), and removing what runs leave behind
(``cleanup``).

May import: analysis, clienthost, lab, methods, parsers, providers, results, stacks, workers, workloads.
"""
