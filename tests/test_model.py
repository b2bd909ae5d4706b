"""Model: image references, ARG scope and expansion, stages, COPY graph, build context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msdfix.model import BuildContext, build_model, parse_image
from msdfix.model.args import expand
from msdfix.model.config import final_config
from msdfix.syntax import parse


@pytest.mark.parametrize(
    "raw, registry, repository, tag, digest, name",
    [
        ("node:18", None, "node", "18", None, "node"),
        ("library/python:3.12-slim", None, "library/python", "3.12-slim", None, "python"),
        ("gcr.io/distroless/static-debian12", "gcr.io", "distroless/static-debian12", None, None,
         "distroless/static-debian12"),
        ("localhost:5000/app:1.0", "localhost:5000", "app", "1.0", None, "app"),
        ("alpine@sha256:abc", None, "alpine", None, "sha256:abc", "alpine"),
        ("ghcr.io/o/r:v1@sha256:def", "ghcr.io", "o/r", "v1", "sha256:def", "o/r"),
    ],
)  # fmt: skip
def test_image_refs(raw, registry, repository, tag, digest, name) -> None:
    ref = parse_image(raw)
    assert (ref.registry, ref.repository, ref.tag, ref.digest, ref.name) == (
        registry, repository, tag, digest, name,
    )  # fmt: skip


@pytest.mark.parametrize(
    "raw, name, full_name",
    [
        # distribution/reference's ParseNormalizedNamed: docker.io/node is docker.io/library/node,
        # index.docker.io is docker.io; registry-1.docker.io is the host both resolve to.
        ("docker.io/node:18", "node", "node"),
        ("docker.io/library/node:18-slim", "node", "node"),
        ("index.docker.io/library/python:3.11", "python", "python"),
        ("registry-1.docker.io/library/golang:1.22", "golang", "golang"),
        ("docker.io/bitnami/redis:7", "bitnami/redis", "bitnami/redis"),
        ("registry-1.docker.io/bitnami/redis", "bitnami/redis", "bitnami/redis"),
        ("mirror.gcr.io/library/node:18", "node", "node"),
        ("public.ecr.aws/docker/library/node:18@sha256:ab", "node", "node"),
        # unknown: the mirror's other paths, Hub's API host without a namespace, capitals
        ("mirror.gcr.io/bitnami/redis", "bitnami/redis", "mirror.gcr.io/bitnami/redis"),
        ("registry-1.docker.io/node", "node", "registry-1.docker.io/node"),
        ("Docker.io/node", "node", "Docker.io/node"),
        ("Myreg/app:1", "app", "Myreg/app"),
        ("${REGISTRY}/node:18", "${REGISTRY}/node", "${REGISTRY}/node"),
    ],
)  # fmt: skip
def test_docker_hub_spellings_read_as_one_name(raw, name, full_name) -> None:
    from msdfix.model.base_images import default_user, library_name

    ref = parse_image(raw)
    assert (ref.name, ref.full_name) == (name, full_name)
    assert library_name(ref) == (name if ref.on_hub and "/" not in name else None)
    if ref.on_hub and name in ("node", "python", "golang"):
        assert default_user(ref) == "root"


@pytest.mark.parametrize(
    "raw, new",
    [
        ("node:18", "node:18-slim"),
        ("docker.io/library/node:18", "docker.io/library/node:18-slim"),
        ("docker.io/node:18@sha256:ab", "docker.io/node:18-slim"),
        ("index.docker.io/library/node", "index.docker.io/library/node:18-slim"),
        ("public.ecr.aws/docker/library/node:18", "public.ecr.aws/docker/library/node:18-slim"),
        ("myreg.io/node:18", "node:18-slim"),  # not Hub's: the name as given
    ],
)
def test_respell_keeps_the_users_registry(raw, new) -> None:
    from msdfix.model.image import respell

    assert respell(parse_image(raw), "node", "18-slim") == new


@pytest.mark.parametrize(
    "raw, new, cached",
    [
        ("mirror.gcr.io/library/node:18", "mirror.gcr.io/library/node:18-slim", True),
        ("mirror.gcr.io/library/node:18", "gcr.io/distroless/nodejs20-debian12", False),
        ("mirror.gcr.io/library/node:18", "mirror.gcr.io/library/node:18", False),  # same
        ("public.ecr.aws/docker/library/node:18", "public.ecr.aws/docker/library/node:18-slim",
         False),
        ("mirror.gcr.io/bitnami/node:18", "mirror.gcr.io/bitnami/node:18-slim", False),  # unknown
        ("node:18", "node:18-slim", False),
    ],
)  # fmt: skip
def test_a_new_tag_through_a_pull_through_cache_may_be_missing(raw, new, cached) -> None:
    from msdfix.model.image import uncached

    assert (uncached(parse_image(raw), new) is not None) is cached


@pytest.mark.parametrize(
    "raw, new, far",
    [
        ("golang:1.19", "gcr.io/distroless/static-debian12", False),  # Hub: msdfix's baseline
        ("docker.io/library/golang:1.19", "debian:bookworm-slim", False),
        ("public.ecr.aws/docker/library/golang:1.19", "gcr.io/distroless/static-debian12", True),
        ("public.ecr.aws/docker/library/golang:1.19", "debian:bookworm-slim", True),  # Hub's
        ("public.ecr.aws/docker/library/golang:1.19",
         "public.ecr.aws/docker/library/debian:bookworm-slim", False),
        ("mirror.gcr.io/library/golang:1.19", "gcr.io/distroless/static-debian12", True),
        ("mcr.microsoft.com/dotnet/sdk:8.0", "mcr.microsoft.com/dotnet/aspnet:8.0", False),
        ("cgr.dev/chainguard/go", "gcr.io/distroless/static-debian12", True),
    ],
)  # fmt: skip
def test_a_new_image_from_another_registry_may_be_out_of_reach(raw, new, far) -> None:
    from msdfix.model.image import elsewhere

    assert (elsewhere(parse_image(raw), new) is not None) is far


def test_expand() -> None:
    scope = {"A": "1", "E": "", "N": None}
    assert (
        expand("${A}-$A-${B:-dflt}-${E:-e}-${E-e}-${A:+set}-${B:+no}", scope) == "1-1-dflt-e--set-"
    )
    assert expand("$UNKNOWN", scope) == "$UNKNOWN"


def test_stages_global_args_and_copy_graph() -> None:
    model = build_model(parse(
        "ARG GO=1.22\nARG BASE\nFROM golang:${GO} AS build\nRUN go build\n"
        "FROM --platform=linux/amd64 build AS test\n"
        "FROM gcr.io/distroless/static\nCOPY --from=build /app /app\n"
        "RUN --mount=type=bind,from=test,target=/t true\n"
    ))  # fmt: skip
    assert model.global_args == {"GO": "1.22", "BASE": None}
    build, test, final = model.stages
    assert build.image.raw == "golang:1.22" and build.alias == "build"
    assert test.parent is build and test.platform == "linux/amd64"
    assert final.name == "2" and model.final is final
    assert model.copy_graph() == {"build": [], "test": [], "2": ["build", "test"]}
    assert model.stage("BUILD") is build


def test_stage_scope_follows_arg_and_env() -> None:
    model = build_model(
        parse("ARG V=1\nFROM alpine\nARG V\nENV HOME=/home/x\nENV P=$HOME/bin\nRUN true\n")
    )
    stage = model.stages[0]
    scope = model.stage_scope(stage, stage.instructions[-1])
    assert scope == {"V": "1", "HOME": "/home/x", "P": "/home/x/bin"}


@pytest.mark.parametrize(
    "lines, expected",
    [
        # Docker's reference: one ENV line expands every value with the variables before it
        ("ENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc", {"def": "hello", "ghi": "bye"}),
        ("ENV APP_ROOT=/opt/app APP_HOME=$APP_ROOT/web", {"APP_HOME": "$APP_ROOT/web"}),
        ("ARG A=1\nARG A=2 B=$A", {"A": "2", "B": None}),  # frontends differ: unknown
        ("ARG A=1 B=2", {"A": "1", "B": "2"}),
    ],
)
def test_a_line_sees_the_variables_set_before_it(lines: str, expected: dict[str, str]) -> None:
    """Built for real: ``ENV VENV=/opt/venv PATH=$VENV/bin:$PATH`` never put the venv on
    PATH, and a split copying /opt/venv lost every package pip had installed."""
    model = build_model(parse(f"FROM alpine\n{lines}\nRUN true\n"))
    stage = model.stages[0]
    scope = model.stage_scope(stage, stage.instructions[-1])
    assert {k: scope[k] for k in expected} == expected


def test_the_fixed_scope_leaves_out_what_a_build_argument_may_change() -> None:
    model = build_model(parse(
        "ARG G=/g\nFROM alpine\nARG G\nARG A=/a\nENV B=$A/bin C=/c D=${G}x\nRUN true\n"
    ))  # fmt: skip
    stage = model.stages[0]
    run = stage.instructions[-1]
    assert model.stage_scope(stage, run) == {
        "G": "/g",
        "A": "/a",
        "B": "/a/bin",
        "C": "/c",
        "D": "/gx",
    }
    assert model.fixed_scope(stage, run) == {"G": None, "A": None, "B": None, "C": "/c", "D": None}


def test_final_config_follows_parent_stages() -> None:
    model = build_model(parse(
        'FROM alpine AS base\nENV A=1\nWORKDIR /app\nFROM base\nWORKDIR sub\nEXPOSE 80 443/tcp\nCMD ["x"]\n'
    ))  # fmt: skip
    config = final_config(model)
    assert config["env"] == {"A": "1"} and config["workdir"] == "/app/sub"
    assert config["expose"] == {"80", "443/tcp"} and config["cmd"] == (True, ("x",))


def test_build_context(tmp_path: Path) -> None:
    for rel in ["package.json", "src/a.js", "docs/x.md", "docs/keep.md", "secret.env"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / ".dockerignore").write_text("# comment\ndocs\n!docs/keep.md\n*.env\n**/*.tmp\n")
    ctx = BuildContext(tmp_path)
    assert ctx.present and ctx.exists("package.json")
    assert (
        not ctx.exists("docs/x.md") and ctx.exists("docs/keep.md") and not ctx.exists("secret.env")
    )
    assert ctx.is_ignored("a/b/c.tmp")
    assert ctx.read_json("package.json") == {}
    assert ctx.glob("src/*.js") == ["src/a.js"]


def test_absent_context_is_conservative() -> None:
    ctx = BuildContext(None)
    assert not ctx.present and not ctx.exists("package.json") and ctx.files == []
    assert ctx.read_text("package.json") is None


@pytest.mark.parametrize(
    "text, entrypoint, cmd",
    [
        ('FROM a\nCMD ["c"]\n', None, '["c"]'),
        ('FROM a\nENTRYPOINT ["e"]\nCMD ["c"]\n', '["e"]', '["c"]'),
        # BuildKit keeps a CMD set earlier in the same stage (dispatchEntrypoint's cmdSet) ...
        ('FROM a\nCMD ["c"]\nENTRYPOINT ["e"]\n', '["e"]', '["c"]'),
        # ... and drops the one a stage inherits.
        ('FROM a AS base\nCMD ["c"]\nFROM base\nENTRYPOINT ["e"]\n', '["e"]', None),
        ('FROM a AS base\nENTRYPOINT ["e"]\nFROM base\nCMD ["c"]\n', '["e"]', '["c"]'),
        ('FROM a AS base\nCMD ["c"]\nFROM base\nRUN x\n', None, '["c"]'),
    ],
)
def test_stage_entry_follows_buildkit(text: str, entrypoint: str | None, cmd: str | None) -> None:
    stage = build_model(parse(text)).final
    assert stage is not None
    found = stage.entry()
    assert tuple(i.args if i else None for i in found) == (entrypoint, cmd)


def test_final_config_keeps_a_cmd_set_before_the_entrypoint() -> None:
    config = final_config(build_model(parse('FROM a\nCMD ["c"]\nENTRYPOINT ["e"]\n')))
    assert config["cmd"] == (True, ("c",)) and config["entrypoint"] == (True, ("e",))
    inherited = final_config(build_model(parse('FROM a AS b\nCMD ["c"]\nFROM b\nENTRYPOINT []\n')))
    assert "cmd" not in inherited and "entrypoint" not in inherited


def test_workdirs_follow_the_lineage_from_the_image_default() -> None:
    model = build_model(
        parse('FROM golang:1.22 AS b\nWORKDIR src\nFROM b\nARG D=app\nWORKDIR "$D"\n')
    )
    stage = model.final
    assert stage is not None
    before, end = model.workdirs(stage)
    assert end == "/go/src/app"
    assert before[id(stage.instructions[-1])] == "/go/src"


def test_oven_bun_runs_as_root_in_its_app_directory() -> None:
    from msdfix.model.base_images import DEFAULT_WORKDIRS, default_user
    from msdfix.model.image import parse_image

    assert default_user(parse_image("oven/bun:1.1-alpine")) == "root"
    assert default_user(parse_image("oven/bun:1-distroless")) is None  # not checked
    assert DEFAULT_WORKDIRS[parse_image("oven/bun:1").full_name] == "/home/bun/app"


def test_expansion_that_doubles_per_line_stays_as_written_past_the_limit() -> None:
    from msdfix.model.args import MAX_EXPANSION, expand

    assert expand("${A}${A}", {"A": "x" * (MAX_EXPANSION // 2)}) == "x" * MAX_EXPANSION
    assert expand("${A}${A}!", {"A": "x" * (MAX_EXPANSION // 2)}) == "${A}${A}!"
    # 40 doubling ARGs would need 2**40 characters: the model stays small and the base, which
    # names the last of them, is unknown rather than guessed.
    lines = ["ARG A0=xxxxxxxx", *(f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40))]
    text = "\n".join([*lines, "FROM debian:$A39", "RUN true", ""])
    model = build_model(parse(text))
    assert all(len(v or "") <= MAX_EXPANSION for v in model.global_args.values())
    assert "$" in model.stages[0].image.raw


def test_unclosed_braces_expand_in_linear_time() -> None:
    """``${a`` repeated with no ``}``: each one scanned to the end for its ``}`` (quadratic;
    a minute for 60 kB, hours for a 5 MiB Dockerfile). ``$VAR`` after the last ``}`` still
    expands, the unclosed ones stay as written."""
    from support.deadline import deadline
    from support.fold import fold

    hostile = "${a" * 20_000  # the whole text stays under MAX_EXPANSION
    with deadline():
        assert expand(f"${{a}} {hostile} $a", {"a": "1"}) == f"1 {hostile} 1"
        model = build_model(parse(fold(f"ARG X={hostile * 5}\nFROM alpine\nRUN true\n")))
    assert model.global_args["X"] == hostile * 5


def test_expand_keeps_every_form_of_a_value_a_build_argument_may_set() -> None:
    """``ARG SUB`` / ``WORKDIR /opt/${SUB:-app}``: ``--build-arg SUB=x`` moves the folder, so
    the default is no answer; a name the Dockerfile never sets is unset (its default applies)."""
    scope = {"SUB": None}
    assert (
        expand("/opt/${SUB:-app}/${SUB:+x}/${SUB-a}", scope)
        == "/opt/${SUB:-app}/${SUB:+x}/${SUB-a}"
    )
    assert expand("${UNSET:-d}${UNSET:+x}", scope) == "d"


def test_from_with_a_variable_may_name_every_stage_it_matches() -> None:
    """``FROM base-${ENV}`` names base-prod by default and base-dev under ``--build-arg
    ENV=dev``: both are its parents for what is built FROM them."""
    model = build_model(
        parse(
            "ARG ENV=prod\nFROM debian:12 AS base-prod\nFROM debian:12 AS base-dev\n"
            "FROM debian:12 AS other\nFROM base-${ENV} AS final\nRUN true\n"
        )
    )
    prod, dev, other, final = model.stages
    assert final.parent is prod and final.alternates == [dev]
    assert final in model.descendants(dev) and final not in model.descendants(other)
    assert final.variable_lineage is final and final.below(dev) == [final]
    assert model.ships(dev) and other in model.images()  # other: a leaf, an image of its own


def test_a_from_of_many_variables_matches_stage_names_in_linear_time() -> None:
    """``FROM ${A}a${A}a...${A}c`` against a stage ``aaaa...b``: a regex of ``.*`` between
    the parts backtracked over every split of the name (10 variables took 58 s, 12 over two
    minutes); the parts are now found one after the other."""
    from support.deadline import deadline

    name, many = "a" * 40 + "b", "${A}" + "a${A}" * 20
    text = f"ARG A=\nFROM busybox AS {name}\nFROM {many}c AS x\nFROM {many}b AS y\nRUN true\n"
    with deadline(10):
        first, _, last = build_model(parse(text)).stages
    assert last.alternates == [first]


@given(
    st.lists(st.text("ab", max_size=3), min_size=1, max_size=4),
    st.text("ab", max_size=7),
)
def test_joined_by_any_answers_as_the_regex_did(parts: list[str], name: str) -> None:
    """The linear matcher of FROM parts gives the old regex's answer on every small case."""
    from msdfix.model.stages import _joined_by_any

    regex = re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)
    assert _joined_by_any(name, parts) == bool(regex.fullmatch(name))


def test_a_stage_no_other_stage_uses_is_an_image() -> None:
    """Only ``--target`` builds a leaf stage: it is an image, with or without a CMD."""
    model = build_model(
        parse(
            "FROM debian:12 AS devcontainer\nRUN true\nFROM debian:12 AS build\nRUN true\n"
            "FROM debian:12 AS base\nFROM base AS app\nCOPY --from=build /x /x\n"
        )
    )
    devcontainer, build, base, app = model.stages
    assert model.images() == [devcontainer, app]
    assert model.ships(base) and not model.ships(build)


def test_an_unnamed_stage_no_other_stage_uses_is_no_image() -> None:
    """``--target`` takes a stage's name: ``docker build --target 0`` failed "target stage 0
    could not be found", so an unnamed stage nothing uses is never built (binnacle files
    whose alias was stripped kept their apt lists for it)."""
    model = build_model(
        parse("FROM debian:12\nRUN apt-get update\nFROM debian:12 AS app\nRUN true\n")
    )
    unnamed, app = model.stages
    assert model.images() == [app]
    assert not model.ships(unnamed)
