"""A split's runtime ``COPY --from --chown=NAME`` and the RUN that creates NAME.

BuildKit gives root what a ``--chown`` names when it cannot find the name; the legacy builder
(``DOCKER_BUILDKIT=0``), podman and kaniko stop ("can't find uid for user eventz"). So a
name-based --chown never comes before the repeated RUN that makes the account: it is left
out when that RUN gives the whole copied path a user and group (``chown -R u: path``), else the
split is unsafe with the reason. Without Docker only the static half runs.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from msdfix.document import Document
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.syntax import parse
from msdfix.transforms.split_stages import (
    PLANNERS,
    _anchor,
    _ordered_setup,
    _runs_around_copies,
)
from msdfix.transforms.split_stages.build_stage import Analysis
from msdfix.transforms.split_stages.ownership import copy_owner

# dinosaur-dev's besababa/backend, on a base the stand-ins have.
EVENTZ = """\
FROM node:18

COPY . /eventz

RUN useradd --no-create-home  \\
    --home-dir /eventz \\
    --uid 2000 \\
    eventz &&\\
    chown {owner} /eventz {flag}

WORKDIR /eventz
USER eventz

RUN npm install

CMD npm start
"""


def _eventz(owner: str = "eventz:", flag: str = "-R") -> str:
    return EVENTZ.format(owner=owner, flag=flag)


def _unsafe_split(text: str) -> str:
    """The split with --unsafe-fixes and no build context (every copied path gets --chown)."""
    result = rewrite(
        text,
        "Dockerfile",
        BuildContext(None),
        Settings(frozenset({"split-stages"}), frozenset(), True),
    )
    assert "AS runtime" in result.output, [f.message for f in result.suggestions]
    return result.output


def _owner_of_copy(text: str, owner: str, dest: str) -> tuple[str | None, str | None]:
    """(the --chown the runtime's COPY gets, the unsafe reason) from ``copy_owner`` alone."""
    doc = Document(parse(text), BuildContext(None))
    analysis = Analysis(doc, doc.model.stages[0], "node")
    plan = PLANNERS["node"](analysis)
    plan.unsafe = None  # (no context: package.json's reason would hide the one under test)
    anchor = _anchor(analysis)
    runs = _runs_around_copies(analysis, anchor, _ordered_setup(analysis, plan, anchor))
    kept = copy_owner(analysis, plan, owner, dest, runs)
    return kept, plan.unsafe


def test_no_name_is_chowned_before_the_run_that_creates_it() -> None:
    out = _unsafe_split(_eventz())
    runtime = out[out.index("AS runtime") :]
    assert "COPY --from=build /eventz /eventz" in runtime
    for name in re.findall(r"--chown=([A-Za-z_][\w-]*)", runtime):
        assert runtime.index(f"--chown={name}") > runtime.index("useradd"), runtime


@pytest.mark.parametrize(
    "owner, flag, dest, kept, unsafe",
    [
        ("eventz:", "-R", "/eventz", None, False),  # the later chown -R covers the copy
        ("eventz:eventz", "--recursive", "/eventz/lib", None, False),
        ("eventz", "-R", "/eventz", "eventz", True),  # chown -R of the user alone: group left
        ("eventz:", "", "/eventz", "eventz", True),  # not recursive: the files keep --chown's
        ("eventz:", "-R", "/srv", "eventz", True),  # another path
    ],
)
def test_a_late_account_is_left_out_only_under_a_later_recursive_chown(
    owner: str, flag: str, dest: str, kept: str | None, unsafe: bool
) -> None:
    got, reason = _owner_of_copy(_eventz(owner, flag), "eventz", dest)
    assert got == kept
    assert (reason is not None and "comes before the RUN that creates eventz" in reason) is unsafe


def test_an_account_the_runtime_image_ships_keeps_its_chown() -> None:
    assert _owner_of_copy(_eventz(), "node", "/eventz") == ("node", None)


def _legacy_build(docker_mod, context: Path, dockerfile: Path, tag: str):  # type: ignore[no-untyped-def]
    """``DOCKER_BUILDKIT=0 docker build``: the builder that stops at an unknown --chown name."""
    env = docker_mod.docker_env()
    env["DOCKER_BUILDKIT"] = "0"
    cli = docker_mod.docker_cli()
    argv = [cli, "build", "-q", "-t", tag, "-f", str(dockerfile), str(context)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)


OWNERS = "find /eventz -not -path '*/_logs/*' -printf '%p %u:%g %m %y\\n' | sort"


def test_the_split_builds_on_both_builders_with_the_originals_owners(tmp_path: Path) -> None:
    """Built: the original and the split, with BuildKit and the legacy builder; every file
    under /eventz has the original's owner, group and mode."""
    docker_mod = pytest.importorskip("support.docker")
    docker_mod.require_images("node:18", "node:18-slim")
    (tmp_path / "package.json").write_text('{"name": "eventz", "version": "1.0.0"}\n')
    (tmp_path / "index.js").write_text("console.log('hi')\n")
    (tmp_path / "secret").write_text("x\n")
    (tmp_path / "secret").chmod(0o600)
    texts = {"original": _eventz(), "split": _unsafe_split(_eventz())}
    tags: list[str] = []
    owners: dict[str, str] = {}
    try:
        for name, text in texts.items():
            dockerfile = tmp_path.parent / f"{tmp_path.name}-{name}.Dockerfile"
            dockerfile.write_text(text)
            for builder in ("buildkit", "legacy"):
                tag = f"s28-chownorder-{name}-{builder}-{uuid.uuid4().hex[:8]}"
                if builder == "buildkit":
                    built = docker_mod.build(tmp_path, dockerfile, tag)
                    ok, log = built.ok, built.tail()
                else:
                    proc = _legacy_build(docker_mod, tmp_path, dockerfile, tag)
                    ok, log = proc.returncode == 0, proc.stdout + proc.stderr
                assert ok, f"{name} on {builder}: {log}"
                tags.append(tag)
                ran = docker_mod.run(tag, OWNERS)
                owners[f"{name}-{builder}"] = ran.stdout
        assert owners["original-buildkit"].count("eventz:eventz") >= 3
        assert len(set(owners.values())) == 1, owners
    finally:
        docker_mod.remove_image(*tags)
