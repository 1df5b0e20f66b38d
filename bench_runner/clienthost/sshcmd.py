"""Pure: the ``--client-host ssh://USER@HOST[:PORT]`` target, the OpenSSH command line that
reaches it, and what an ssh failure means in one line.

The command line is built so that ssh can only ever do what the suite asks, whatever the
local configuration says: no configuration file (``-F none``: a ``Host`` block could proxy
elsewhere), a literal IP address (no DNS), key authentication only, ``BatchMode`` (never a
password or passphrase prompt), a connect timeout, no forwarding of any kind, and the host
key checked against a known_hosts file (never accepted blindly).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from ..errors import UsageError

SCHEME = "ssh://"
DEFAULT_PORT = 22
#: Seconds ssh may take to connect and exchange banners before giving up.
CONNECT_TIMEOUT = 10
#: A user name as OpenSSH and useradd take it (no shell or option characters).
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}")

#: The options every connection gets (see the module docstring for why each).
FIXED_OPTIONS: tuple[tuple[str, str], ...] = (
    ("BatchMode", "yes"),
    ("ConnectTimeout", str(CONNECT_TIMEOUT)),
    ("ConnectionAttempts", "1"),
    ("CheckHostIP", "no"),
    ("StrictHostKeyChecking", "yes"),
    ("UpdateHostKeys", "no"),
    ("VerifyHostKeyDNS", "no"),
    ("CanonicalizeHostname", "no"),
    ("ProxyCommand", "none"),
    ("ProxyJump", "none"),
    ("ControlMaster", "no"),
    ("ControlPath", "none"),
    ("PreferredAuthentications", "publickey"),
    ("PubkeyAuthentication", "yes"),
    ("PasswordAuthentication", "no"),
    ("KbdInteractiveAuthentication", "no"),
    ("GSSAPIAuthentication", "no"),
    ("HostbasedAuthentication", "no"),
    ("ForwardAgent", "no"),
    ("ForwardX11", "no"),
    ("ClearAllForwardings", "yes"),
    ("RequestTTY", "no"),
    ("ServerAliveInterval", "5"),
    ("ServerAliveCountMax", "3"),
    ("LogLevel", "ERROR"),
)


@dataclass(frozen=True)
class SshTarget:
    user: str
    host: str  # a literal IP address
    port: int = DEFAULT_PORT

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.host).version

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port != DEFAULT_PORT else ""
        return f"{SCHEME}{self.user}@{host}{port}"


def literal_address(text: str, what: str) -> str:
    """An IP address written as one: a host name would need DNS, which the suite never asks."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f"{what} {text!r}: not an IP address (host names are refused: the suite resolves "
                         "nothing; give the address)") from None


def parse_url(text: str) -> SshTarget:
    """``ssh://USER@HOST[:PORT]`` (an IPv6 HOST in brackets); anything else is a UsageError."""
    flag = "--client-host"
    if not text.startswith(SCHEME):
        raise UsageError(f"{flag} {text!r}: expected ssh://USER@HOST[:PORT]")
    rest = text[len(SCHEME):]
    user, at, hostport = rest.rpartition("@")
    if not at or not _USER.fullmatch(user):
        raise UsageError(f"{flag} {text!r}: expected ssh://USER@HOST[:PORT] with a plain user name")
    if hostport.startswith("["):
        host, bracket, tail = hostport[1:].partition("]")
        if not bracket or ":" not in host:
            raise UsageError(f"{flag} {text!r}: an IPv6 address goes in brackets, e.g. ssh://me@[2001:db8::2]:22")
    elif hostport.count(":") > 1:
        raise UsageError(f"{flag} {text!r}: an IPv6 address goes in brackets, e.g. ssh://me@[2001:db8::2]:22")
    else:
        host, _, port_text = hostport.partition(":")
        tail = f":{port_text}" if _ else ""
    port = DEFAULT_PORT
    if tail:
        port_text = tail[1:] if tail.startswith(":") else ""
        if not tail.startswith(":") or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError(f"{flag} {text!r}: the port must be a number 1-65535, after the host and a colon")
        port = int(port_text)
    if "/" in host or "?" in host:
        raise UsageError(f"{flag} {text!r}: expected ssh://USER@HOST[:PORT] and nothing after it")
    address = literal_address(host, flag)
    parsed = ipaddress.ip_address(address)
    if parsed.is_loopback or parsed.is_unspecified or parsed.is_multicast:
        raise UsageError(f"{flag} {text!r}: the client host must be another computer, at an address of its own")
    return SshTarget(user, address, port)


@dataclass(frozen=True)
class SshOptions:
    """How to reach the client host: the target, and the key and known hosts to use (None:
    ssh's own defaults, ~/.ssh/id_* and ~/.ssh/known_hosts of the user running the suite)."""

    target: SshTarget
    identity: str | None = None
    known_hosts: str | None = None

    def prefix(self) -> list[str]:
        """ssh and every option, up to and including the destination."""
        argv = ["ssh", "-F", "none", "-T", "-x", "-a"]
        for key, value in FIXED_OPTIONS:
            argv += ["-o", f"{key}={value}"]
        if self.identity is not None:
            argv += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts is not None:
            argv += ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null"]
        return [*argv, "-p", str(self.target.port), "-l", self.target.user, "--", self.target.host]

    def argv(self, remote: list[str]) -> list[str]:
        """The command line that runs ``remote`` there: ssh hands the remote side one string
        its login shell splits, so every word is quoted here."""
        return [*self.prefix(), shlex.join(remote)]

    def to_json(self) -> dict[str, object]:
        return {"url": self.target.url, "identity": self.identity, "known_hosts": self.known_hosts}


#: What ssh says (its own errors, exit 255) and what it means for the user, first match wins.
_SSH_FAILURES: tuple[tuple[str, str], ...] = (
    ("permission denied", "the key was refused (key authentication only; check --client-key and the "
                          "remote user's authorized_keys)"),
    ("host key verification failed", "its host key is not in the known hosts (or changed): connect once with "
                                     "ssh to check and accept it, or name a known_hosts file with "
                                     "--client-known-hosts"),
    ("remote host identification has changed", "its host key changed since it was accepted"),
    ("connection refused", "nothing accepts SSH connections on that port"),
    ("connection timed out", "no answer (host down, or a firewall drops SSH)"),
    ("operation timed out", "no answer (host down, or a firewall drops SSH)"),
    ("no route to host", "no route to it (host down or unreachable)"),
    ("network is unreachable", "the network is unreachable from this machine"),
    ("timeout, server", "the connection was lost (no answer to keepalives)"),
    ("broken pipe", "the connection was lost"),
    ("connection reset", "the connection was reset"),
    ("connection closed", "the connection was closed by the remote side"),
    ("no such file or directory", "ssh could not read a file it was given (--client-key or "
                                  "--client-known-hosts)"),
    ("bad permissions", "the key file's permissions are too open for ssh (chmod 600 it)"),
    ("unprotected private key file", "the key file's permissions are too open for ssh (chmod 600 it)"),
)


def explain(url: str, returncode: int, stderr: str) -> str:
    """One line for a failed ssh call: what ssh itself reported (exit 255), or that the
    remote command could not be found (127)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = lines[-1] if lines else "(no error output)"
    if returncode == 255:
        lowered = stderr.lower()
        meaning = next((m for text, m in _SSH_FAILURES if text in lowered), None)
        return f"ssh to {url} failed: {meaning} ({said})" if meaning else f"ssh to {url} failed: {said}"
    if returncode == 127:
        return f"{url}: a command the suite needs is missing there ({said})"
    return f"{url}: exited with {returncode}: {said}"
