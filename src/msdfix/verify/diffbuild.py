"""Differential builds, the Docker part: build a Dockerfile and msdfix's rewrites of it, check
that every cache-mounted RUN builds with empty mounts, and compare the final images.

Cache mounts are shared by every build on the daemon that names the same id, so each build
gives its cache mounts ids of its own (:func:`private_mounts`): they start empty, and concurrent
builds (other files, other processes, other users of the daemon) cannot fill them. A cache-busted
rebuild keeps the ids of the RUNs before the bust point (their layers stay cached) and gives the
RUN at the bust point and later ones fresh, empty mounts.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msdfix.engine import Settings
from msdfix.model import BuildContext, build_model
from msdfix.runner import process
from msdfix.syntax import parse
from msdfix.verify.configdiff import diff_configs
from msdfix.verify.differential import (
    BUST_ARG,
    Listing,
    bust_points,
    classify_fs,
    insert_bust,
    make_context,
    private_mounts,
)
from msdfix.verify.docker import Client, build, image_id, inspect_image, remove_images


def digest(text: str) -> str:
    """Short content hash used to decide whether a file must be rebuilt."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry(member: tarfile.TarInfo) -> tuple[str, int, str]:
    """(type, size, ``uid:gid mode``) of one path of ``docker export``'s archive: the mode in
    octal with the setuid, setgid and sticky bits. A hard link is compared as a file of its
    own (which path of a set ``docker export`` stores first is its choice), a symlink by its
    target (its mode is always 777)."""
    meta = f"{member.uid}:{member.gid} {member.mode & 0o7777:o}"
    if member.isdir():
        return ("dir", 0, meta)
    if member.issym():
        return (f"link:{member.linkname}", 0, f"{member.uid}:{member.gid}")
    if member.islnk():
        return ("hardlink", 0, meta)
    return ("file", member.size, meta)


@dataclass
class Harness:
    """Shared state of one run: the client and the per-build timeout."""

    client: Client
    timeout: float = 600

    def build(
        self, workdir: Path, name: str, text: str, *, bust: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Build ``text``; returns its tag and {builds, seconds[, error]}."""
        dockerfile = workdir / f"{name}.Dockerfile"
        dockerfile.write_text(text)
        tag = f"msdfix-diff/{workdir.name}:{name}-{uuid.uuid4().hex[:8]}"
        args = {BUST_ARG: uuid.uuid4().hex} if bust else None
        out = build(
            self.client, workdir / "context", dockerfile, tag,
            timeout=self.timeout, build_args=args,
        )  # fmt: skip
        record: dict[str, Any] = {"builds": out.ok, "seconds": round(out.seconds, 1)}
        if not out.ok:
            record["error"] = out.tail(12)
        return tag, record

    def missing_bases(self, text: str) -> list[str]:
        """FROM images of ``text`` that are neither earlier stages nor present locally."""
        stages: set[str] = set()
        missing = []
        for stage in build_model(parse(text)).stages:
            raw = stage.image.raw
            if raw.lower() not in stages and image_id(self.client, raw) is None:
                missing.append(raw)
            stages |= {stage.name.lower(), str(stage.index)}
        return missing

    def listing(self, tag: str) -> Listing:
        """Every path of the image's filesystem from ``docker export``: (type, size, owner
        and mode); a symlink's type holds its target."""
        cid = self.client.run("create", "--entrypoint", "/msdfix-none", tag).stdout.strip()
        found: dict[str, tuple[str, int, str]] = {}
        try:
            proc = subprocess.Popen(
                [self.client.path, "export", cid], stdout=subprocess.PIPE, env=self.client.env
            )
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                for member in archive:
                    found[member.name.lstrip("./").rstrip("/")] = entry(member)
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
        missing = self.missing_bases(text)
        if missing:
            return {"skipped": f"base image {missing[0]} is not available offline"}
        nonce = uuid.uuid4().hex[:12]
        tag, record = self.build(workdir, mode, private_mounts(text, lambda _: nonce))
        tags = [tag]
        try:
            if not record["builds"]:
                return record
            record.update(self.compare(original_text, orig, tag))
            if bust:
                record["bust"] = []
                for line in bust_points(text):
                    fresh = uuid.uuid4().hex[:12]
                    own = private_mounts(text, lambda at: fresh if at >= line else nonce)  # noqa: B023
                    busted = insert_bust(own, line)
                    btag, brec = self.build(workdir, f"{mode}-bust{line}", busted, bust=True)
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
        tag, result["original"] = self.build(workdir, "original", text)
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
