"""podman-netbench: a benchmark suite for rootless Podman networking.

It measures every way rootless Podman can receive and send traffic (pasta, slirp4netns
with either port handler, host networking, systemd socket activation) on the same
workloads in a two-host lab of network namespaces, ranks the methods with honest
statistics, and checks the claims of the podman-networking-docs guide.
"""

__version__ = "0.1.0"
