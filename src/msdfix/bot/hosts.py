"""Where the token may go: GitHub, the Actions server, or a host the user named; https only.

The token is sent (as an API header, or to git through askpass) only to an allowed origin:
github.com and api.github.com, the hosts of ``$GITHUB_SERVER_URL`` and ``$GITHUB_API_URL``, and
the host of ``--api-url``; for an API host ``api.X`` also ``X`` (github.com's layout, also used by
GHE.com). Plain http is refused except to loopback (127.0.0.1, ::1, localhost: local test
servers). Remote URLs are parsed by this module too (owner/name and host of https, ssh and
scp-like remotes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from msdfix.bot.git import BotError

GITHUB_ORIGINS = ("https://github.com", "https://api.github.com")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_PORTS = {"https": 443, "http": 80}
SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(.+)$")


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of an http(s) URL (the unit a redirect may not leave)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The URL's origin; None unless it is an http(s) URL with a host."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".").lower()
        if scheme not in DEFAULT_PORTS or not host:
            return None
        return cls(scheme, host, port or DEFAULT_PORTS[scheme])

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


@dataclass(frozen=True)
class TokenPolicy:
    """The (host, port) pairs the token may be sent to."""

    allowed: frozenset[tuple[str, int]]

    @classmethod
    def build(cls, api_url: str | None, env: Mapping[str, str]) -> TokenPolicy:
        """github.com, the Actions server and API, and ``--api-url`` (named by the user)."""
        named = [*GITHUB_ORIGINS, env.get("GITHUB_SERVER_URL"), env.get("GITHUB_API_URL"), api_url]
        allowed: set[tuple[str, int]] = set()
        for url in named:
            origin = Origin.of(url or "")
            if origin is None:
                continue
            allowed.add(origin.address)
            if origin.host.startswith("api."):
                allowed.add((origin.host[len("api.") :], origin.port))
        return cls(frozenset(allowed))

    def check(self, url: str, what: str) -> Origin:
        """The URL's origin, or a :class:`BotError` saying why the token may not go there."""
        origin = Origin.of(url)
        if origin is None:
            raise BotError(f"{what} is not an http(s) URL; the token is only sent over https")
        if origin.scheme != "https" and origin.host not in LOOPBACK:
            raise BotError(
                f"{what} uses plain http ({origin}); the token is only sent over https "
                "(http only to 127.0.0.1, ::1 or localhost)"
            )
        if origin.address not in self.allowed:
            raise BotError(
                f"{what} is on {origin}: msdfix sends the token only to github.com, "
                "$GITHUB_SERVER_URL or the host of --api-url; pass --api-url for a GitHub "
                "Enterprise host you trust"
            )
        return origin

    def check_all(self, urls: Iterable[str], what: str) -> None:
        for url in urls:
            self.check(url, what)


def remote_host(url: str) -> str | None:
    """The host of an http(s), ssh or scp-like remote URL; None for local paths."""
    url = url.strip()
    if url.startswith(("/", ".", "file:")) or re.match(r"^[A-Za-z]:\\", url):
        return None
    if "://" in url:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return None
        return host.rstrip(".").lower() if host else None
    match = SCP_LIKE.match(url)
    return match.group(1).lower() if match else None


def parse_repo(url: str) -> tuple[str, str] | None:
    """(owner, name) from a GitHub remote URL (https, ssh, scp-like); None for local paths."""
    url = url.strip()
    if remote_host(url) is None:
        return None
    if "://" in url:
        path = urlsplit(url).path
    else:
        match = SCP_LIKE.match(url)
        if not match:
            return None
        path = match.group(2)
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) < 2:
        return None
    owner, name = parts[-2], parts[-1]
    if name.endswith(".git"):
        name = name[:-4]
    return (owner, name) if owner and name else None


def api_url_for(remote_url: str, env: Mapping[str, str]) -> str:
    """The REST API for a remote when neither --api-url nor $GITHUB_API_URL says it.

    github.com remotes (and local paths) use https://api.github.com; a remote on the host of
    ``$GITHUB_SERVER_URL`` uses ``$GITHUB_SERVER_URL/api/v3`` (GitHub Enterprise Server). Any
    other host is an error: the token is not sent to a host nobody named.
    """
    host = remote_host(remote_url)
    if host is None or host in ("github.com", "www.github.com"):
        return "https://api.github.com"
    server = env.get("GITHUB_SERVER_URL", "")
    origin = Origin.of(server)
    if origin is not None and origin.host == host:
        return server.rstrip("/") + "/api/v3"
    raise BotError(
        f"the remote is on {host}, not github.com: msdfix sends the token only to github.com, "
        "$GITHUB_SERVER_URL or a host you name; pass --api-url (e.g. "
        f"https://{host}/api/v3 for GitHub Enterprise) if you trust it"
    )
