"""What a Podman release says it removed, from the release notes its package ships
(``RELEASE_NOTES.md``: "## 6.0.0", "### Breaking Changes", one "- " item per change).

Podman 6.0.0's: "Support for the slirp4netns rootless network stack has been removed. Please
use Pasta instead." A stack built with that Podman has no slirp4netns network, and the suite
says so in the release's own words instead of failing every trial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION_HEADING = re.compile(r"^##\s+v?(\d+\.\d+\.\d+)\s*$")
_SECTION_HEADING = re.compile(r"^###\s+(.+?)\s*$")
_REMOVED = re.compile(r"^support for .*\b(?:has|have) been (?:removed|dropped)\b", re.I)


@dataclass(frozen=True)
class Removal:
    #: The release whose notes say it.
    version: str
    #: The sentence that says what is gone.
    sentence: str
    #: The release's words: that sentence and the one after it ("Please use Pasta instead.").
    words: str

    def mentions(self, subject: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(subject)}(?![\w-])", self.sentence, re.I) is not None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=\.)\s+(?=[A-Z`])", text.strip()) if s.strip()]


def removals(notes: str) -> list[Removal]:
    """Every "Support for X has been removed" of a Breaking Changes section, newest release first."""
    found: list[Removal] = []
    version: str | None = None
    section = ""
    for line in notes.splitlines():
        heading = _VERSION_HEADING.match(line)
        if heading:
            version, section = heading.group(1), ""
            continue
        sub = _SECTION_HEADING.match(line)
        if sub:
            section = sub.group(1).lower()
            continue
        if version is None or "breaking" not in section or not line.startswith("- "):
            continue
        sentences = _sentences(line[2:])
        for index, sentence in enumerate(sentences):
            if _REMOVED.match(sentence):
                found.append(Removal(version, sentence, " ".join(sentences[index:index + 2])))
    return found


def removal_of(notes: str, subject: str) -> Removal | None:
    """The release that removed ``subject`` (a helper's name, case-insensitive), if the notes say one did."""
    return next((r for r in removals(notes) if r.mentions(subject)), None)
