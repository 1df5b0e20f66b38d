"""``ethtool -k DEV``: a device's offload features. Whether segmentation and receive
offloads are on decides how many packets a helper like pasta handles per byte, so a
maintainer asks for them with every throughput report. Pure."""

from __future__ import annotations

from . import ParseError

#: The offloads that shape throughput most, by the short name maintainers use.
MAIN_OFFLOADS: tuple[tuple[str, str], ...] = (
    ("tso", "tcp-segmentation-offload"),
    ("gso", "generic-segmentation-offload"),
    ("gro", "generic-receive-offload"),
    ("lro", "large-receive-offload"),
    ("tx-checksum", "tx-checksumming"),
    ("rx-checksum", "rx-checksumming"),
    ("sg", "scatter-gather"),
)


def parse_features(text: str) -> dict[str, str]:
    """Every feature with its state as ethtool prints it ("on", "off [fixed]"), in order;
    indented sub-features are kept under their own names."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Features for "):
        raise ParseError(f"ethtool -k: expected 'Features for DEV:', got {(lines[0] if lines else '')[:80]!r}")
    features: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, state = line.strip().partition(":")
        if not sep or not name or not state.strip():
            continue  # a blank line; nothing else ethtool prints lacks a colon
        features[name] = state.strip()
    if not features:
        raise ParseError("ethtool -k: no features listed")
    return features


def main_offloads(features: dict[str, str]) -> dict[str, str]:
    """The main offloads by short name; one the device does not list is left out."""
    return {short: features[name] for short, name in MAIN_OFFLOADS if name in features}
