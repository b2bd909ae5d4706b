"""Differential builds, the Docker part: build a Dockerfile and msdfix's rewrites of it, check
that every cache-mounted RUN builds with empty mounts, and compare the final images.

Cache mounts are shared by every build on the daemon, so each build that can use one holds
``MountLock`` (threads and, through a lock file, other harness processes) from emptying the
mounts to its end; builds of originals (no cache mounts) run concurrently with them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import tarfile
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from msdfix.engine import Settings
from msdfix.model import BuildContext
from msdfix.runner import process
from msdfix.verify.configdiff import diff_configs
from msdfix.verify.differential import (
    BUST_ARG,
    Listing,
    bust_points,
    classify_fs,
    insert_bust,
    make_context,
)
from msdfix.verify.docker import (
    Client,
    build,
    empty_cache_mounts,
    inspect_image,
    remove_images,
)


def digest(text: str) -> str:
    """Short content hash used to decide whether a file must be rebuilt."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class MountLock:
    """Held while a build may use cache mounts: one such build at a time on this machine."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(tempfile.gettempdir()) / "msdfix-differential-mounts.lock"
        self.thread_lock = threading.Lock()
        self.fd = -1

    def __enter__(self) -> MountLock:
        self.thread_lock.acquire()
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        os.close(self.fd)  # releases the flock
        self.thread_lock.release()


@dataclass
class Harness:
    """Shared state of one run: the client, the mount lock, the per-build timeout."""

    client: Client
    timeout: float = 600
    mount_lock: MountLock = field(default_factory=MountLock)

    def build(
        self, workdir: Path, name: str, text: str, *, mounts: bool, bust: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Build ``text``; returns its tag and {builds, seconds[, error]}."""
        dockerfile = workdir / f"{name}.Dockerfile"
        dockerfile.write_text(text)
        tag = f"msdfix-diff/{workdir.name}:{name}-{uuid.uuid4().hex[:8]}"
        args = {BUST_ARG: uuid.uuid4().hex} if bust else None
        with self.mount_lock if mounts else contextlib.nullcontext():
            if mounts:
                empty_cache_mounts(self.client)
            out = build(
                self.client, workdir / "context", dockerfile, tag,
                timeout=self.timeout, build_args=args,
            )  # fmt: skip
        record: dict[str, Any] = {"builds": out.ok, "seconds": round(out.seconds, 1)}
        if not out.ok:
            record["error"] = out.tail(12)
        return tag, record

    def listing(self, tag: str) -> Listing:
        """Every path of the image's filesystem: (type, size) from ``docker export``."""
        cid = self.client.run("create", "--entrypoint", "/msdfix-none", tag).stdout.strip()
        found: dict[str, tuple[str, int]] = {}
        try:
            proc = subprocess.Popen(
                [self.client.path, "export", cid], stdout=subprocess.PIPE, env=self.client.env
            )
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                for member in archive:
                    path = member.name.lstrip("./").rstrip("/")
                    if member.isdir():
                        found[path] = ("dir", 0)
                    elif member.issym() or member.islnk():
                        found[path] = (f"link:{member.linkname}", 0)
                    else:
                        found[path] = ("file", member.size)
            proc.wait()
        finally:
            self.client.run("rm", "-f", cid)
        return found

    def compare(
        self, text: str, orig: tuple[str, Listing, dict[str, Any]], tag: str
    ) -> dict[str, Any]:
        """Size ratio, config errors and filesystem differences of ``tag`` against the original."""
        orig_tag, orig_list, orig_info = orig
        info = inspect_image(self.client, tag)
        diffs = diff_configs(orig_info.get("Config") or {}, info.get("Config") or {}, text)
        return {
            "size": info["Size"],
            "size_ratio": round(info["Size"] / max(orig_info["Size"], 1), 4),
            "config_diffs": [d.to_dict() for d in diffs if d.severity == "error"],
            "fs": classify_fs(orig_list, self.listing(tag)).to_dict(),
        }

    def rewrite_checks(
        self,
        workdir: Path,
        mode: str,
        text: str,
        original_text: str,
        orig: tuple[str, Listing, dict[str, Any]],
        bust: bool,
    ) -> dict[str, Any]:
        """Build one rewrite, its cache-busted variants (``bust``), and compare the images."""
        tag, record = self.build(workdir, mode, text, mounts=True)
        tags = [tag]
        try:
            if not record["builds"]:
                return record
            record.update(self.compare(original_text, orig, tag))
            if bust:
                record["bust"] = []
                for line in bust_points(text):
                    busted = insert_bust(text, line)
                    btag, brec = self.build(workdir, f"{mode}-bust{line}", busted, mounts=True)
                    tags.append(btag)
                    record["bust"].append({"line": line, **brec})
                record["cache_independent"] = all(b["builds"] for b in record["bust"])
            return record
        finally:
            remove_images(self.client, tags)

    def run_file(self, key: str, text: str, workdir: Path) -> dict[str, Any]:
        """Everything recorded for one Dockerfile (see bench/differential.py)."""
        workdir.mkdir(parents=True, exist_ok=True)
        context = workdir / "context"
        make_context(text, context)
        outputs: dict[str, str] = {}
        result: dict[str, Any] = {"input": digest(text)}
        for mode in ("safe", "unsafe"):
            report = process(key, text, BuildContext(context), Settings(unsafe=mode == "unsafe"))
            if report.result is None:
                result[mode] = {"msdfix_error": report.error}
            else:
                outputs[mode] = report.result.output
        result["rewrite"] = digest("\0".join(outputs.get(m, "") for m in ("safe", "unsafe")))
        tag, result["original"] = self.build(workdir, "original", text, mounts="--mount" in text)
        if not result["original"]["builds"]:
            return result
        try:
            info = inspect_image(self.client, tag)
            result["original"]["size"] = info["Size"]
            orig = (tag, self.listing(tag), info)
            for mode, output in outputs.items():
                if output == text:
                    result[mode] = {"changed": False}
                elif mode == "unsafe" and output == outputs.get("safe"):
                    result[mode] = {"changed": True, "same_as_safe": True}
                else:
                    checks = self.rewrite_checks(workdir, mode, output, text, orig, mode == "safe")
                    result[mode] = {"changed": True, **checks}
        finally:
            remove_images(self.client, [tag])
        return result
