"""A fake GitHub on 127.0.0.1 for the bot's tests, recording every request.

It serves the REST endpoints ``msdfix pr`` uses, and git over smart HTTP: ``/git/...`` runs the
real ``git http-backend`` on a bare repository behind Basic authentication (like github.com, it
answers 401 until credentials come, and 403 for the wrong ones). Queued failures and redirects
let tests answer any request with any status. :class:`Recorder` is a second server that only
records what reaches it (the target of cross-host redirects).

Plain module (no package-relative imports), imported as ``support.fake_github``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "ghp_TESTtoken0123456789SECRETabcdef"

Response = tuple[int, dict[str, str], Any]


def basic(token: str) -> str:
    """The Authorization header git sends for ``x-access-token:token``."""
    return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    """State of the fake API; ``git_root`` is the directory served at ``/git/`` (None: 404)."""

    token: str = TOKEN
    owner: str = "o"
    repo: str = "r"
    default_branch: str = "main"
    requests: list[Recorded] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[str, str, int, dict[str, str], Any]] = field(default_factory=list)
    redirects: list[tuple[str, int, str]] = field(default_factory=list)
    git_root: Path | None = None
    git_auth: list[str] = field(default_factory=list)
    url: str = ""

    def fail(
        self,
        method: str,
        prefix: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``method`` request whose path starts with ``prefix`` with ``status``."""
        self.failures.append((method, prefix, status, headers or {}, body))

    def redirect(self, prefix: str, status: int, target: str) -> None:
        """Redirect every request under ``prefix`` to ``target`` + the rest of its path."""
        self.redirects.append((prefix, status, target))

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if not r.path.startswith("/git")]

    def close_pull(self, number: int, merged: bool = False) -> None:
        """What a person closing (or merging) the pull request on github.com does."""
        self.pulls[number]["state"] = "closed"
        self.pulls[number]["merged_at"] = "2024-01-01T00:00:00Z" if merged else None

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Response:
        for prefix, status, target in self.redirects:
            if path.startswith(prefix):
                self.requests.append(Recorded(method, path, headers, raw))
                return status, {"Location": target + path[len(prefix) :]}, {"message": "Moved"}
        if path.startswith("/git/"):
            return self.git_http(method, path, headers, raw)
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(method, path, headers, body))
        for i, (m, prefix, status, extra, payload) in enumerate(self.failures):
            if m == method and path.startswith(prefix):
                del self.failures[i]
                return status, extra, payload
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        parts = urlsplit(path)
        repo = f"/repos/{self.owner}/{self.repo}"
        if not parts.path.startswith(repo):
            return 404, {}, {"message": "Not Found"}
        return self.api(method, parts.path[len(repo) :], parse_qs(parts.query), body)

    def api(self, method: str, rest: str, query: dict[str, list[str]], body: Any) -> Response:
        if method == "GET" and rest == "":
            full = f"{self.owner}/{self.repo}"
            return 200, {}, {"full_name": full, "default_branch": self.default_branch}
        if method == "GET" and rest == "/pulls":
            head = query["head"][0].split(":", 1)[1]
            state = query.get("state", ["open"])[0]
            found = [
                p
                for p in sorted(self.pulls.values(), key=lambda p: -int(p["number"]))
                if p["head"]["ref"] == head and state in ("all", p["state"])
            ]
            return 200, {}, found
        if method == "POST" and rest == "/pulls":
            return self.create_pull(body)
        if method == "PATCH" and rest.startswith("/pulls/"):
            pull = self.pulls[int(rest.rsplit("/", 1)[1])]
            pull.update({k: body[k] for k in ("title", "body", "state") if k in body})
            return 200, {}, pull
        if rest.startswith("/issues/") and rest.endswith("/labels") and method == "POST":
            number = int(rest.split("/")[2])
            self.labels.setdefault(number, []).extend(body["labels"])
            return 200, {}, [{"name": n} for n in self.labels[number]]
        if rest.startswith("/issues/") and rest.endswith("/comments"):
            comments = self.comments.setdefault(int(rest.split("/")[2]), [])
            if method == "GET":
                return self.page(rest, query, comments)
            if method == "POST":
                comments.append({"id": len(comments) + 1, "body": body["body"]})
                return 201, {}, comments[-1]
        return 404, {}, {"message": "Not Found"}

    def page(self, rest: str, query: dict[str, list[str]], items: list[Any]) -> Response:
        """One page of ``items`` as GitHub serves a list: ``per_page`` (default 30, at most
        100) from ``page``, and a Link header naming the next page while there is one."""
        size = min(int(query.get("per_page", ["30"])[0]), 100)
        number = int(query.get("page", ["1"])[0])
        headers = {}
        if number * size < len(items):
            link = f"{self.url}/repos/{self.owner}/{self.repo}{rest}?"
            other = {k: v[0] for k, v in query.items()}
            last = -(-len(items) // size)
            headers["Link"] = (
                f'<{link}{urlencode({**other, "page": number + 1})}>; rel="next", '
                f'<{link}{urlencode({**other, "page": last})}>; rel="last"'
            )
        return 200, headers, items[(number - 1) * size : number * size]

    def create_pull(self, body: dict[str, Any]) -> Response:
        head = body["head"]
        if any(p["head"]["ref"] == head and p["state"] == "open" for p in self.pulls.values()):
            message = f"A pull request already exists for {self.owner}:{head}."
            return 422, {}, {"message": "Validation Failed", "errors": [{"message": message}]}
        number = len(self.pulls) + 1
        pull = {
            "number": number,
            "state": "open",
            "merged_at": None,
            "title": body["title"],
            "body": body["body"],
            "draft": body.get("draft", False),
            "head": {"ref": head},
            "base": {"ref": body["base"]},
            "html_url": f"https://github.example/{self.owner}/{self.repo}/pull/{number}",
        }
        self.pulls[number] = pull
        return 201, {}, pull

    # --- git over smart HTTP --------------------------------------------------------------

    def git_http(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Response:
        """Basic auth like github.com: 401 without credentials, 403 with wrong ones."""
        self.requests.append(Recorded(method, path, headers, None))
        auth = headers.get("Authorization")
        if not auth:
            return 401, {"WWW-Authenticate": 'Basic realm="fake"'}, "auth required"
        self.git_auth.append(auth)
        if self.git_root is None:
            return 404, {}, "Repository not found."
        if auth != basic(self.token):
            return 403, {}, "Permission denied."
        return http_backend(self.git_root, method, path[len("/git") :], headers, raw)


def http_backend(
    root: Path, method: str, path: str, headers: dict[str, str], raw: bytes
) -> Response:
    """Run ``git http-backend`` as a CGI program for one request."""
    parts = urlsplit(path)
    env = dict(os.environ)
    env.update(
        GIT_PROJECT_ROOT=str(root),
        GIT_HTTP_EXPORT_ALL="1",
        REMOTE_USER="x-access-token",  # lets http-backend accept pushes
        REQUEST_METHOD=method,
        PATH_INFO=parts.path,
        QUERY_STRING=parts.query,
        CONTENT_TYPE=headers.get("Content-Type", ""),
        CONTENT_LENGTH=str(len(raw)),
        HTTP_CONTENT_ENCODING=headers.get("Content-Encoding", ""),
        GIT_PROTOCOL=headers.get("Git-Protocol", ""),
    )
    proc = subprocess.run(
        ["git", "http-backend"], input=raw, env=env, capture_output=True, check=False
    )
    head, _, body = proc.stdout.partition(b"\r\n\r\n")
    status, out = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.split()[0])
        elif key:
            out[key] = value.strip()
    return status, out, body


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """The request's headers; every Authorization header (any case) under one key."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() != "authorization"}
    auth = handler.headers.get_all("Authorization") or []
    if auth:
        headers["Authorization"] = ", ".join(auth)
    return headers


def _handler(handle: Callable[[str, str, dict[str, str], bytes], Response]) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            status, headers, payload = handle(
                self.command, self.path, _headers(self), _read_body(self)
            )
            if isinstance(payload, bytes):
                data = payload
            elif isinstance(payload, str):
                data = payload.encode()
            else:
                data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


@contextmanager
def serve(handle: Callable[[str, str, dict[str, str], bytes], Response]) -> Iterator[str]:
    """Run a threaded HTTP server on 127.0.0.1 answering with ``handle``; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(handle))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Recorder:
    """A server that records every request and answers ``200 []`` (a harmless JSON list)."""

    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Response:
        self.requests.append(Recorded(method, path, headers, raw))
        return 200, {}, []

    def saw(self, secret: str) -> bool:
        """True when any request carried ``secret`` anywhere (headers, path or body)."""
        for r in self.requests:
            text = r.path + json.dumps(r.headers) + (r.body or b"").decode("utf-8", "replace")
            if (
                secret in text
                or base64.b64encode(f"x-access-token:{secret}".encode()).decode() in text
            ):
                return True
        return False


def step_outputs(text: str) -> dict[str, str]:
    """Parse a ``$GITHUB_OUTPUT`` file as the Actions runner does (``k=v`` and ``k<<DELIM``)."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            else:
                raise ValueError(f"{name}: no closing {delimiter}")
            values[name] = "\n".join(body)
        elif line:
            name, _, value = line.partition("=")
            values[name] = value
    return values
