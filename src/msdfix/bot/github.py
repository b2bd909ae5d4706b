"""A small GitHub REST client on urllib: pull requests and labels, clear one-line errors.

Rate limits are honoured: a 429, or a 403 with ``Retry-After`` or ``X-RateLimit-Remaining: 0``,
is retried after the advertised wait when it is at most ``max_wait`` seconds.

Redirects are followed only within the API's origin (scheme, host and port), where the token is
sent again; a redirect anywhere else is refused before any request reaches it. (urllib alone
would copy the Authorization header to whatever host a redirect names.)
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from msdfix import __version__
from msdfix.bot.git import BotError, scrub
from msdfix.bot.hosts import Origin

API_VERSION = "2022-11-28"
PER_PAGE = "100"
# Pages of a list msdfix reads at most (GitHub's Link header names the next): 1,000 comments.
MAX_PAGES = 10
# One link and its parameters, read in one pass; a URI holds no ``<`` (RFC 3986), and ``[^>]*``
# ran from every ``<`` of an unclosed run to the end of the header (64 KiB of ``<``: a minute).
_LINK = re.compile(r"<([^<>]*)>([^<]*)")
# A link's rel parameter (before the next link's comma): a quoted list of tokens or one token.
_REL = re.compile(r'^[^,]*?;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)


class RedirectRefused(Exception):
    """A redirect that leaves the API's origin (the token does not follow)."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects within the request's origin only, with the token and the method.

    301/302/303 are followed for GET; 307/308 repeat the request as it was (for a renamed
    repository GitHub answers 301 to GETs and 307 to other methods). The Authorization header is an "unredirected" header, which
    urllib never copies to a redirect: it is put back here, for the same origin only.
    """

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        target = Origin.of(newurl)
        if target is None or target != Origin.of(req.full_url):
            fp.close()
            raise RedirectRefused(str(target) if target else newurl.split("?")[0])
        method = req.get_method()
        new: urllib.request.Request | None
        if code in (307, 308):
            new = urllib.request.Request(newurl, data=req.data, headers=dict(req.headers),
                                         method=method)  # fmt: skip
        elif method == "GET":
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
        else:
            return None  # urllib then reports the redirect as an HTTP error
        if new is not None:
            for key, value in req.unredirected_hdrs.items():
                new.add_unredirected_header(key, value)
        return new


OPENER = urllib.request.build_opener(SameOriginRedirects)


@dataclass
class GitHub:
    """Calls to ``{api_url}/repos/{owner}/{repo}/...`` with a bearer token."""

    api_url: str
    token: str
    owner: str
    repo: str
    max_wait: float = 60.0
    retries: int = 3
    timeout: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    @property
    def base(self) -> str:
        return f"{self.api_url.rstrip('/')}/repos/{quote(self.owner)}/{quote(self.repo)}"

    def request(
        self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        """JSON of ``method base+path``; raises :class:`BotError` on any failure."""
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        return self._send(method, url, f"{method} {path or '/'}", body)[0]

    def pages(self, path: str, query: dict[str, str]) -> list[Any]:
        """The items of the list ``GET base+path`` and of the pages its Link headers name
        next (``rel="next"``), up to MAX_PAGES; a next page on another origin is refused
        (the token would follow it)."""
        url: str | None = self.base + path + f"?{urlencode(query)}"
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            data, headers = self._send("GET", url, f"GET {path}", None)
            items.extend(data if isinstance(data, list) else [])
            url = _next_page(headers.get("Link") or "")
            if url is not None and Origin.of(url) != Origin.of(self.api_url):
                raise BotError(scrub(
                    f"GitHub API named a next page of GET {path} on {Origin.of(url) or url}, "
                    f"another host: not followed (the token is only sent to "
                    f"{Origin.of(self.api_url)})", [self.token]
                ))  # fmt: skip
        return items

    def _send(self, method: str, url: str, what: str, body: Any) -> tuple[Any, Any]:
        """JSON and headers of ``method url``; raises :class:`BotError` on any failure."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Accept", "application/vnd.github+json")
            req.add_unredirected_header("Authorization", f"Bearer {self.token}")
            req.add_header("X-GitHub-Api-Version", API_VERSION)
            req.add_header("User-Agent", f"msdfix/{__version__}")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with OPENER.open(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                    return (json.loads(raw) if raw.strip() else None), resp.headers
            except urllib.error.HTTPError as exc:
                payload = _json(exc.read())
                wait = _rate_limit_wait(exc.code, exc.headers, payload)
                if wait is not None:
                    if wait > self.max_wait or attempt == self.retries:
                        raise BotError(
                            f"GitHub API rate limit on {what}: retry after {wait:.0f}s "
                            f"(waited at most {self.max_wait:.0f}s)"
                        ) from None
                    self.sleep(wait)
                    continue
                raise BotError(self._explain(exc.code, what, payload)) from None
            except RedirectRefused as exc:
                raise BotError(scrub(
                    f"GitHub API redirected {what} to {exc.target}, another host: not followed "
                    f"(the token is only sent to {Origin.of(self.api_url)})", [self.token]
                )) from None  # fmt: skip
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise BotError(
                    scrub(f"cannot reach the GitHub API at {self.api_url}: {reason}", [self.token])
                ) from None
            except (ValueError, RecursionError) as exc:
                # RecursionError: nested deeper than Python decodes (no ValueError, exit 123).
                raise BotError(f"GitHub API sent invalid JSON for {what}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _explain(self, status: int, what: str, payload: Any) -> str:
        message = _message(payload)
        repo = f"{self.owner}/{self.repo}"
        if status == 401:
            hint = "bad credentials: check the token"
        elif status == 403:
            hint = f"forbidden: the token may not write pull requests in {repo}"
        elif status == 404:
            hint = f"not found: {repo} does not exist or the token cannot see it"
        elif status == 422:
            hint = "validation failed"
        else:
            hint = "request failed"
        detail = f": {message}" if message else ""
        return scrub(f"GitHub API {status} on {what} ({hint}){detail}", [self.token])

    # --- endpoints -------------------------------------------------------------------------

    def default_branch(self) -> str:
        """``GET /repos/{o}/{r}`` → ``default_branch``."""
        data = self.request("GET", "")
        branch = data.get("default_branch") if isinstance(data, dict) else None
        if not isinstance(branch, str) or not branch:
            raise BotError("GitHub API did not say which branch is the default; pass --base")
        return branch

    def pulls(self, branch: str) -> list[dict[str, Any]]:
        """Pull requests from ``owner:branch``, open and closed, newest first (up to 100)."""
        query = {"head": f"{self.owner}:{branch}", "state": "all", "per_page": PER_PAGE}
        data = self.request("GET", "/pulls", query)
        return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []

    def create_pull(self, title: str, body: str, head: str, base: str, draft: bool) -> Any:
        payload = {"title": title, "body": body, "head": head, "base": base, "draft": draft}
        return self.request("POST", "/pulls", body=payload)

    def update_pull(self, number: int, title: str, body: str) -> Any:
        return self.request("PATCH", f"/pulls/{number}", body={"title": title, "body": body})

    def close_pull(self, number: int, title: str, body: str) -> Any:
        payload = {"state": "closed", "title": title, "body": body}
        return self.request("PATCH", f"/pulls/{number}", body=payload)

    def comments(self, number: int) -> list[dict[str, Any]]:
        """The pull request's conversation comments, oldest first (up to MAX_PAGES pages:
        the first page alone missed the stale note on a busy pull request, which got a
        second one)."""
        data = self.pages(f"/issues/{number}/comments", {"per_page": PER_PAGE})
        return [c for c in data if isinstance(c, dict)]

    def comment(self, number: int, text: str) -> Any:
        return self.request("POST", f"/issues/{number}/comments", body={"body": text})

    def add_labels(self, number: int, labels: list[str]) -> Any:
        return self.request("POST", f"/issues/{number}/labels", body={"labels": labels})


def _next_page(link: str) -> str | None:
    """The URL a Link header names ``rel="next"`` (RFC 8288), or None: rel is a list of
    space-separated relation types compared case-insensitively, ``next`` one of them."""
    for match in _LINK.finditer(link):  # `<>;` 20,000 times took 35 s searched as one pattern
        rel = _REL.match(match.group(2))
        if rel and "next" in (rel.group(1) or rel.group(2)).lower().split():
            return match.group(1)
    return None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")[:200]


def _message(payload: Any) -> str:
    if isinstance(payload, str):
        return payload.strip().splitlines()[0] if payload.strip() else ""
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload.get("message", ""))]
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            text = error.get("message") or " ".join(
                str(error[k]) for k in ("resource", "field", "code") if k in error
            )
            parts.append(str(text))
        else:
            parts.append(str(error))
    return "; ".join(p for p in parts if p)


def _rate_limit_wait(status: int, headers: Any, payload: Any) -> float | None:
    """Seconds to wait before retrying, or None when this is not a rate limit."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("Retry-After") if headers else None
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
    remaining = headers.get("X-RateLimit-Remaining") if headers else None
    if remaining == "0":
        reset = headers.get("X-RateLimit-Reset")
        try:
            return max(0.0, float(reset) - time.time())
        except (TypeError, ValueError):
            return 60.0
    if status == 429 or "rate limit" in _message(payload).lower():
        return 60.0
    return None
