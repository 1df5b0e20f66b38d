"""Pure judgement of samples, from the results document alone: statistics (``stats``),
the looks a run takes and each one's share of the 5% (``looks``), the decisions that add
rounds (``sequential``), rankings per workload and placement (``ranking``), ordering verdicts (``verdicts``), the
guide's claims (``claims``), run stability (``stability``), the comparison of two sides
(``compare``), the tables' cells (``tables``) and the simulation that checks the statistics
(``simulation``). Nothing here measures or touches the machine.

May import: methods, results, workloads.
"""
