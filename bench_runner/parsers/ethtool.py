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


def _key_values(text: str, what: str, first: str) -> dict[str, str]:
    """``key: value`` lines; the first must be ``first`` (ethtool's own heading or field)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].strip().startswith(first):
        raise ParseError(f"{what}: expected {first!r} first, got {(lines[0] if lines else '')[:80]!r}")
    found: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition(":")
        if sep and key:
            found.setdefault(key.strip(), value.strip())
    return found


def parse_driver(text: str) -> dict[str, str]:
    """``ethtool -i DEV``: the driver (veth, virtio_net, mlx5_core), its version and firmware,
    the bus; empty fields left out."""
    fields = _key_values(text, "ethtool -i", "driver:")
    return {key: fields[name] for key, name in (("driver", "driver"), ("version", "version"),
                                                ("firmware", "firmware-version"), ("bus", "bus-info"))
            if fields.get(name)}


def parse_settings(text: str) -> dict[str, object]:
    """``ethtool DEV``: the link speed in Mbit/s (None where the driver reports none, as
    virtio does: "Unknown!"), duplex and whether a link is detected."""
    fields = _key_values(text, "ethtool", "Settings for ")
    speed_text = fields.get("Speed", "")
    speed = int(speed_text[:-len("Mb/s")]) if speed_text.endswith("Mb/s") and speed_text[:-4].isdigit() else None
    duplex = fields.get("Duplex", "").split(" ")[0].rstrip("!") or None
    link = fields.get("Link detected")
    return {"speed_mbps": speed, "duplex": duplex if duplex and duplex != "Unknown" else None,
            "link_detected": None if link is None else link == "yes"}
