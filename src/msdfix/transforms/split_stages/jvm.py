"""split-stages for Java (Maven/Gradle jars, installDist) and .NET (`dotnet publish`)."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.base import option
from msdfix.ecosystems.dotnet import dotnet_runtime
from msdfix.ecosystems.java import JAVA_BUILD_TASKS, java_runtime
from msdfix.ecosystems.jdk import compiling_reason
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import (
    HARMLESS,
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    context_paths,
    dedupe,
)


def plan_java(a: Analysis) -> Plan:
    builds = [c for c in a.calls if _java_build(c)]
    if not builds:
        raise NotABuild
    image = java_runtime(a.stage.image.full_name, a.stage.image.tag)
    if image is None:
        raise Decline(
            f"no JRE image of the same vendor and version is known for {a.stage.image.raw}"
        )
    if a.entry is None:
        raise Decline("no CMD or ENTRYPOINT says which jar runs")
    artefacts: list[str] = []
    unsafe_reasons: list[str] = []
    for argv in a.entry.commands:
        if not argv:
            continue
        if posixpath.basename(argv[0]) == "java":
            jar = option(argv, "-jar")
            classpath = option(argv, "-cp", "-classpath", "--class-path")
            entries = [jar] if jar else classpath.split(":") if classpath else []
            for item in entries:
                path = a.entry_path(item)
                if path is None or not path.startswith("/"):
                    raise Decline(f"cannot tell which files `{item}` in the CMD names")
                copied = _classpath_dir(item, path)
                if copied == path:  # a jar (a wildcard's directory holds the dependencies)
                    _check_pom(a, path)
                artefacts.append(copied)
            if jar and _jar_classpath(a):
                unsafe_reasons.append(
                    "pom.xml puts the jar's dependencies beside it (copy-dependencies, "
                    "a manifest Class-Path), which the runtime may not get"
                )
            if not entries:
                raise Decline("cannot tell which jar the CMD runs")
        elif "/build/install/" in (a.entry_path(argv[0]) or ""):
            path = a.entry_path(argv[0]) or ""
            artefacts.append(
                path[: path.index("/build/install/")]
                + "/build/install/"
                + path.split("/build/install/")[1].split("/")[0]
            )
        elif not (a.entry.shell and argv[0] in HARMLESS):
            raise Decline(f"the CMD runs `{argv[0]}`, not `java -jar` or an installDist script")
    files = context_paths(a, "java")
    unsafe = (
        compiling_reason(a.ctx)
        or (None if image[1] else "JRE of another vendor")
        or (unsafe_reasons[0] if unsafe_reasons else None)
    )
    return Plan(image[0], dedupe(artefacts + files.paths), unsafe=unsafe)


def _classpath_dir(item: str, path: str) -> str:
    """The path to copy for a classpath entry: the directory of the JVM's ``dir/*`` wildcard
    (every jar in it; copied as a glob it became one file named ``*``, built for real), the
    entry itself otherwise; any other pattern is declined."""
    if path.endswith("/*") and not any(ch in path[:-2] for ch in "*?["):
        return path[:-2]
    if any(ch in path for ch in "*?["):
        raise Decline(f"cannot tell which files the pattern `{item}` in the CMD names")
    return path


_WEB_SDK = re.compile(re.escape("Microsoft.NET.Sdk.Web"))


def _jar_classpath(a: Analysis) -> bool:
    """pom.xml copies the dependencies next to the jar or writes them into its manifest's
    Class-Path: the jar alone does not run (and may, when pom.xml cannot be read)."""
    try:
        text = a.ctx.read_known("pom.xml") or ""
    except Unreadable:
        return True
    return "copy-dependencies" in text or re.search(r"<addClasspath>\s*true", text) is not None


def _java_build(call: Call) -> bool:
    tool = posixpath.basename(call.program)
    kind = (
        "maven" if tool in ("mvn", "mvnw") else "gradle" if tool in ("gradle", "gradlew") else None
    )
    if kind is None:
        return False
    tasks = {t.lower().split(":")[-1] for t in call.args if not t.startswith("-")}
    return bool(tasks & JAVA_BUILD_TASKS[kind])


def _check_pom(a: Analysis, jar: str) -> None:
    if any(ch in jar for ch in "*?["):
        return
    try:
        text = a.ctx.read_known("pom.xml")
    except Unreadable as exc:  # (read as empty, a 1 MiB pom let a wrong jar name through)
        raise Decline(f"{exc}, so the jar it builds is unknown") from None
    if text is None:
        return
    import xml.etree.ElementTree as ET  # here: only a context's pom.xml needs it (start-up)

    try:  # (expat refuses entity expansion past its amplification limit, and never reads an
        # external entity: the name Maven would see is then unknown)
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Decline(
            f"pom.xml could not be parsed ({exc}), so the jar it builds is unknown"
        ) from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def find(path: str) -> str | None:
        node = root.find("/".join(ns + p for p in path.split("/")))
        return node.text.strip() if node is not None and node.text else None

    artifact, version = find("artifactId"), find("version") or find("parent/version")
    name = find("build/finalName") or (artifact and version and f"{artifact}-{version}")
    if not name:
        raise Decline(
            "pom.xml names neither a finalName nor an artifactId and version, so the jar it "
            "builds is unknown"
        )
    if (
        "$" not in name
        and posixpath.dirname(jar).endswith("/target")
        and posixpath.basename(jar) != f"{name}.jar"
    ):
        raise Decline(f"pom.xml builds {name}.jar but the CMD runs {posixpath.basename(jar)}")


def plan_dotnet(a: Analysis) -> Plan:
    builds = [c for c in a.calls if c.program == "dotnet" and c.sub == "publish"]
    if not builds:
        raise NotABuild
    outs = []
    for call in builds:
        out = option(call.args, "-o", "--output")
        if out is None or a.expand_fixed(out) is None:
            raise Decline(
                f"`dotnet publish` at line {call.ins.start_line} has no -o: "
                "output directory unknown"
            )
        outs.append(resolve(a.expand_fixed(out) or "", call.cwd))
    if a.entry is None or not a.entry.argv:
        raise Decline("no CMD or ENTRYPOINT says which assembly runs")
    argv = a.entry.argv
    dll = argv[1] if posixpath.basename(argv[0]) == "dotnet" and len(argv) > 1 else argv[0]
    value = a.expand_fixed(dll)
    target = resolve(value, a.final_dir) if value else None
    if not target or not any(within(target, o) for o in outs):
        raise Decline("the CMD does not run the published output")
    projects = a.ctx.glob("*.csproj") + a.ctx.glob("*/*.csproj")
    # a project that cannot be read may be a web one (aspnet holds the runtime too)
    web = not projects or any(a.ctx.may_match(p, _WEB_SDK) for p in projects)
    runtime = dotnet_runtime(a.stage.image.tag, web)
    if runtime is None:
        raise Decline(f"no .NET runtime image known for {a.stage.image.raw}")
    files = context_paths(a, "dotnet")
    return Plan(runtime, dedupe(outs + files.paths))
