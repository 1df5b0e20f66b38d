"""Outputs from a stored results document: the report (``render``: content -> layout ->
Markdown, HTML or JSON, with ``plots``; its ``formats`` as light data for the command line)
and the output of ``compare``.

May import: analysis, methods, parsers, results, run, workloads.
"""
