"""The two-host lab and everything root does to the host for it: the hosts as network
namespaces joined by a veth pair (``hosts``), path conditions on the link (``netem``), the
link as observed (``linkinfo``), the benchmark user (``user``) and its image (``image``),
what the host is (``hostinfo``), which process owns a socket (``observe``), what a run made
and must remove (``runstate``), reading the user's side without trusting it
(``untrusted``), and locks (``locks``).

May import: parsers, results.
"""
