"""non-root: the final stage runs as a non-root user, the app still answers and can write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.document import Document
from msdfix.model import BuildContext
from msdfix.model.users import effective_user, is_root
from msdfix.syntax import parse
from newtransform_support import copy_app, messages, run, sd, serve_and_get, tag

CASES = cases("non-root")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    assert len([c for c in CASES if c.expected is not None]) >= 5
    assert len([c for c in CASES if c.expected is None]) >= 6


def _final_user(text: str) -> str | None:
    final = Document(parse(text), BuildContext(None)).model.final
    assert final is not None
    return effective_user(final)


@pytest.mark.parametrize(
    "base",
    ["python:3.12-slim", "ruby:3.3", "debian:12", "python:3.12-alpine", "alpine:3.20", "scratch"],
)
def test_each_family_ends_non_root(base: str) -> None:
    out = run(f'FROM {base}\nWORKDIR /app\nCOPY . .\nCMD ["/app/run"]\n', "non-root").output
    user = _final_user(out)
    assert user is not None and not is_root(user)
    if base.startswith(("python:3.12-alpine", "alpine")):
        assert "adduser -S" in out
    elif base != "scratch":
        assert "useradd --system --uid 10001" in out


def test_later_user_root_is_overridden_after_it() -> None:
    out = run('FROM debian:12\nUSER root\nCOPY a /a\nCMD ["/a"]\n', "non-root").output
    assert out.index("USER root") < out.index("USER 10001:10001")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FROM node:20\nCMD node s.js --port=80\n", "port 80"),
        ("FROM node:20\nENV PORT=443\nCMD node s.js\n", "port 443"),
        ('FROM node:20\nCMD ["node", "s.js", "--bind", "0.0.0.0:8"]\n', "port 8"),
        ("FROM debian:12\nCMD su-exec app run\n", "su-exec"),
        ('FROM debian:12\nCMD ["gosu", "app", "run"]\n', "gosu"),
        ('FROM debian:12\nCMD ["dhcpd", "-f", "eth0"]\n', "runs dhcpd, which needs root"),
        ('FROM postgres:16\nCMD ["postgres"]\n', "gosu"),
        ('FROM fedora:40\nCMD ["run"]\n', "does not know whether fedora:40 has useradd or adduser"),
        # openjdk 12+'s plain tags are Oracle Linux, eclipse-temurin's -ubi9-minimal Red Hat
        # UBI (docker-library/openjdk, adoptium/containers): no Debian useradd known there
        ('FROM openjdk:17\nCMD ["java", "-jar", "/a.jar"]\n', "no Debian or Ubuntu tag"),
        ('FROM eclipse-temurin:21-jre-ubi9-minimal\nCMD ["java"]\n', "no Debian or Ubuntu tag"),
        ('FROM maven:3.9-amazoncorretto-17\nCMD ["mvn"]\n', "no Debian or Ubuntu tag"),
        ("FROM gcr.io/distroless/static@sha256:" + "a" * 64 + '\nCMD ["/a"]\n', "variant"),
        ('FROM debian:12\nUSER $APP_USER\nCMD ["run"]\n', "unknown"),
    ],
)
def test_declines_with_a_reason(text: str, reason: str) -> None:
    result = run(text, "non-root")
    assert not result.changed and reason in messages(result)


def test_a_context_script_that_starts_dhcpd_keeps_root(tmp_path: Path) -> None:
    """Built: dhcpd as uid 10001 failed "Open a socket for LPF: Operation not permitted"."""
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\nexec dhcpd -f -d -4 "$INTERFACE"\n')
    text = 'FROM debian:12\nCOPY entrypoint.sh /opt/\nCMD ["/opt/entrypoint.sh"]\n'
    result = run(text, "non-root", context=tmp_path)
    assert not result.changed
    assert "/opt/entrypoint.sh runs dhcpd, which needs root" in messages(result)


def test_unsafe_and_declares_the_user_change() -> None:
    result = run('FROM node:20\nCOPY . /app\nCMD ["node", "/app/s.js"]\n', "non-root", unsafe=False)
    assert not result.changed
    fix = result.suggestions[0].fix
    assert fix and fix.changes_config == frozenset({"user"})


@pytest.mark.docker
def test_single_stage_node_api_with_all_unsafe_fixes_runs_as_node_and_answers(
    tmp_path: Path,
) -> None:
    """The issue's requirement: `msdfix --write --unsafe-fixes` on a single-stage Node API."""
    sd.require_images("node:18", "node:18-slim")
    app = copy_app("node-api", tmp_path)
    cli = [sys.executable, "-m", "msdfix", "--write", "--unsafe-fixes", str(app / "Dockerfile")]
    subprocess.run(cli, check=True, capture_output=True, text=True)
    text = (app / "Dockerfile").read_text()
    user = _final_user(text)
    assert user == "1000:1000", text
    image = tag("non-root-node")
    try:
        built = sd.build(app, tag=image)
        assert built.ok, built.tail()
        assert sd.image_config(image)["User"] == "1000:1000"
        body, uid = serve_and_get(image, 3000)
        assert json.loads(body) == {"service": "node-api", "ok": True}
        assert uid == "1000"
    finally:
        sd.remove_image(image)


@pytest.mark.docker
def test_debian_app_writes_its_data_as_uid_10001(tmp_path: Path) -> None:
    sd.require_images("python:3.12-slim")
    app = copy_app("python-notes", tmp_path)
    out = run((app / "Dockerfile").read_text(), "non-root", context=app).output
    assert "USER 10001:10001" in out
    (app / "Dockerfile").write_text(out)
    image = tag("non-root-python")
    try:
        built = sd.build(app, tag=image)
        assert built.ok, built.tail()
        body, uid = serve_and_get(image, 8080)
        data = json.loads(body)
        assert data["uid"] == 10001 and data["visits"] == 1  # it wrote data/visits.txt
        assert uid == "10001"
    finally:
        sd.remove_image(image)


def test_distroless_reached_through_a_stage_gets_a_numeric_user() -> None:
    text = (
        'FROM gcr.io/distroless/static-debian12 AS base\nFROM base\nCOPY x /x\nENTRYPOINT ["/x"]\n'
    )
    out = run(text, "non-root").output
    assert "USER 65532:65532" in out and ":nonroot" not in out


def test_a_debug_runtime_msdfix_chose_for_root_becomes_nonroot(tmp_path: Path) -> None:
    """split-stages gives a root Go program distroless ``:debug`` (untagged and ``:latest`` are
    hadolint findings); once non-root applies, busybox has no reason left: ``:nonroot``, as the
    experts write it (go-api was 1.41x the expert's size). A ``:debug`` the user wrote keeps
    its busybox: ``:debug-nonroot``."""
    app = copy_app("go-api", tmp_path)
    out = run((app / "Dockerfile").read_text(), None, context=app).output
    assert "FROM gcr.io/distroless/static-debian12:nonroot AS runtime" in out
    assert ":debug" not in out
    written = 'FROM gcr.io/distroless/static-debian12:debug\nCOPY app /app\nCMD ["/app"]\n'
    assert "static-debian12:debug-nonroot" in run(written, None).output


def test_without_a_shell_the_message_says_only_the_copied_files_are_the_users() -> None:
    """On distroless nothing chowns the working directory: the COPY --chown files are the
    user's, the directory stays root's (the reason called it writable and root-owned)."""
    text = (
        "FROM gcr.io/distroless/static-debian12\nWORKDIR /srv\nCOPY app /srv/app\n"
        'ENTRYPOINT ["/srv/app"]\n'
    )
    said = messages(run(text, "non-root", unsafe=True))
    assert "files copied into /srv owned by it (1 COPY/ADD with --chown)" in said
    assert "the directories /srv stay owned by root" in said
    assert "writable by it" not in said


def test_volume_paths_are_quoted_in_the_shell_command() -> None:
    text = 'FROM debian:12\nVOLUME ["/srv/my data"]\nCMD ["/app"]\n'
    assert "mkdir -p '/srv/my data'" in run(text, "non-root").output


def test_unresolved_workdir_variable_is_declined() -> None:
    result = run('FROM debian:12\nARG HOME_DIR\nWORKDIR $HOME_DIR\nCMD ["/app"]\n', "non-root")
    assert not result.changed and "variable" in messages(result)


def test_quoted_workdir_and_a_volume_on_it_are_chowned_once() -> None:
    text = 'FROM debian:12\nENV H=/opt/x\nWORKDIR "${H}"\nVOLUME /opt/x /data/\nCMD ["/app"]\n'
    out = run(text, "non-root").output
    assert "mkdir -p /opt/x /data && chown 10001:10001 /opt/x /data\n" in out


def test_an_inherited_cmd_does_not_count_after_an_entrypoint() -> None:
    """BuildKit drops the CMD a stage inherits when the stage sets ENTRYPOINT (Stage.entry)."""
    base = 'FROM debian:12 AS base\nCMD ["gosu", "app", "run"]\n'
    inherited = run(base + 'FROM base\nCMD ["run"]\n', "non-root")
    assert "gosu" not in messages(inherited)
    dropped = run(base + 'FROM base\nENTRYPOINT ["run"]\n', "non-root")
    assert "gosu" not in messages(dropped)
    kept = run(base + 'FROM base\nENTRYPOINT ["run"]\nCMD ["gosu", "x"]\n', "non-root")
    assert "gosu" in messages(kept)


def test_the_working_directory_starts_at_the_image_default() -> None:
    """golang images set WORKDIR /go: a relative COPY lands there (Model.workdirs)."""
    result = run('FROM golang:1.22\nCOPY server .\nCMD ["./server"]\n', "non-root", unsafe=True)
    assert "/go writable by it" in messages(result)


def test_entry_scripts_are_listed_in_the_order_they_run() -> None:
    """ENTRYPOINT's scripts first, then CMD's (Stage.entry), whichever was written first."""
    result = run('FROM debian:12\nCMD ["/b.sh"]\nENTRYPOINT ["/a.sh"]\n', "non-root", unsafe=True)
    assert "/a.sh, /b.sh does not need root" in messages(result)


@pytest.mark.parametrize("program, script", [("docker-entrypoint", True), ("server", False)])
def test_entry_program_with_many_entrypoint_words_before_a_slash(
    program: str, script: bool
) -> None:
    """Each "entrypoint" in a program path scanned to the next "/" and failed there, from every
    one of them: quadratic (20,000 took half a minute, a 5 MiB Dockerfile days). Whether the
    program is an entry script still depends on its last component only."""
    from support.deadline import deadline
    from support.fold import fold

    path = "/" + "entrypoint" * 100_000 + "/" + program
    with deadline():
        result = run(fold(f'FROM debian:12\nENTRYPOINT ["{path}"]\n'), "non-root", unsafe=True)
    assert (f"and that {path} does not need root" in messages(result)) == script


def test_new_instructions_take_the_files_case() -> None:
    """A lower-case file got `RUN groupadd ...` and `USER ...`: BuildKit's
    ConsistentInstructionCasing warns on them, and `# check=error=true` fails the build."""
    text = '# check=error=true\nfrom debian:12\nrun echo hi\ncmd ["sleep", "1"]\n'
    out = run(text, "non-root", unsafe=True).output
    assert "\nrun groupadd" in out and "\nuser 10001:10001" in out
    assert "RUN " not in out and "USER " not in out


def test_a_long_list_of_writable_directories_is_cut_with_a_count() -> None:
    """Eleven directories made one line of 491 characters: three are named, then a count."""
    text = 'FROM debian:12\nVOLUME /v0 /v1 /v2 /v3 /v4 /v5\nCMD ["/bin/run"]\n'
    said = messages(run(text, "non-root", unsafe=True))
    assert "/v0, /v1, /v2 and 3 more writable by it" in said, said


def test_the_checks_read_as_one_sentence() -> None:
    """ "check: the app writes nowhere else (...); and that X does not need root" read as
    two clauses glued together: one "check that ... and that ..." sentence."""
    text = 'FROM debian:12\nWORKDIR /app\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n'
    said = messages(run(text, "non-root", unsafe=True))
    assert "check that the app writes nowhere else" in said, said
    assert "root-owned) and that /entry.sh does not need root" in said, said


@pytest.mark.parametrize(
    ("base", "folders"),
    [
        ("debian:12", "/tmp or /home/app"),
        ("node:20", "/tmp or /home/node"),
        ("gcr.io/distroless/static-debian12", "/tmp or /home/nonroot"),
        ("scratch", "/tmp, where the image has one (scratch has none)"),
    ],
)
def test_with_no_folder_given_the_message_names_where_it_can_write(base: str, folders: str) -> None:
    """Built: reportjira's script (no WORKDIR) wrote its report to / as root; as uid 10001
    PermissionError, where "check that the app writes nowhere else" named no folder."""
    said = messages(run(f'FROM {base}\nCMD ["/report"]\n', "non-root", unsafe=True))
    assert "no folder is given to it: the working directory / stays root's" in said, said
    assert f"writes only under {folders} (files from RUN steps" in said, said


@pytest.mark.parametrize(
    ("cmd", "declined"),
    [
        ('["pip", "install", "jungle==0.1.10"]', True),
        ("pip3 install -i https://example.org/simple jungle", True),
        ('["python3", "-m", "pip", "install", "license"]', True),
        ('["gem", "install", "rails"]', True),
        ("npm install -g serve && serve", True),
        ('["pip", "install", "--user", "jungle"]', False),
        ('["npm", "install"]', False),
        ('["python", "app.py"]', False),
    ],
)
def test_a_package_install_at_start_keeps_root(cmd: str, declined: bool) -> None:
    """Round 27, built: pypi/jungle's ``FROM python`` + ``CMD ["pip", "install",
    "jungle==0.1.10"]`` installed into site-packages as root; as uid 10001 pip fell back to
    /home/app/.local, and the jungle program was not on PATH. The image's own packages are
    root's: such a command keeps root, saying why."""
    result = run(f"FROM python:3.12\nCMD {cmd}\n", "non-root")
    assert ("USER 10001" not in result.output) is declined, result.output
    if declined:
        assert "which writes the image's own packages" in messages(result)


def test_a_chowned_copy_from_another_stage_says_it_gives_the_builds_files() -> None:
    """Round 27, built (kryha/grex split by split-stages, then non-root): ``COPY --from=build
    --chown=1000:1000 /usr/src/app /usr/src/app`` made node_modules, root's in the original,
    node's; the reason said only that files from RUN steps stay root's."""
    text = (
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
        "FROM node:20-slim\nWORKDIR /app\nCOPY --from=build /app /app\n"
        'CMD ["node", "server.js"]\n'
    )
    result = run(text, "non-root")
    assert "COPY --from=build --chown=1000:1000 /app /app" in result.output
    assert "gives it what the build stage's RUN steps made too" in messages(result)
    assert "files from this stage's own RUN steps stay root-owned" in messages(result)
    plain = run('FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "s.js"]\n', "non-root")
    assert "build stage's RUN steps" not in messages(plain)
