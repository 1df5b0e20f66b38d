"""The results document and its words: one versioned JSON file per run (``document``), the
cells it is keyed by (``cells``), the metrics it records (``metrics``), what a trial observed
(``observed``), a release stack's record in words (``stackrecord``), and writing files whole
or not at all (``atomic``). Everything later stages
read is here, so a stored run is rendered again without measuring.

May import: (the top-level modules only).
"""
