"""Release stacks: a Debian release's root filesystem, built from the distribution's
package registry, booted with systemd as PID 1 inside a lab's server host, so that real
Podman 5, pasta, rootlessport, Quadlet and systemd socket units are measured on this machine
without changing its own packages; and the stack this machine itself is.

- ``detect``: the exact stack a run measures (kernel, Podman, passt, ...) and the host.
- ``spec``: what a stack is made of (suite, packages, sources) and its cache key.
- ``store``: where built stacks live, their manifests and versions, and their locks.
- ``build``: making one with mmdebstrap (a second build of an unchanged stack only checks).
- ``boot``: booting one for a run, talking to it, and powering it off again.

May import: lab, parsers, results.
"""
