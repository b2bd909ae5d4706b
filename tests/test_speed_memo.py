"""Work done once: the memos and lazy reads that make msdfix faster per core (issue 13) give
the answers the direct computation gives, and skip the work they are meant to skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import msdfix
import msdfix.model.copies as copies
import msdfix.transforms.cache_mount.targets as targets
import msdfix.transforms.slim_base.variants as variants
from msdfix.document import Document
from msdfix.engine import Settings, _line_starts, rewrite
from msdfix.model import BuildContext, Stage, build_model
from msdfix.model.args import expand
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction, parse
from msdfix.transforms.cache_mount.history import History
from msdfix.transforms.cache_mount.steps import _substitutions, run_steps, step_commands


def _count_stage_facts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = variants.stage_facts

    def counting(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(variants, "stage_facts", counting)
    return calls


def test_slim_base_reads_the_stage_only_for_a_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_stage_facts(monkeypatch)
    text = 'FROM {}\nRUN echo hi\nCMD ["python", "app.py"]\n'
    rewrite(text.format("python:3.12-slim"), None, BuildContext(None), Settings())
    assert calls == []  # already slim, no alpine target: no candidate reads the stage
    result = rewrite(text.format("python:3.12"), None, BuildContext(None), Settings())
    assert len(calls) == 1
    assert "python:3.12-slim" in result.output


def test_copy_sources_once_per_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model(parse("FROM python:3.12\nARG D=src\nCOPY $D/a.txt b.txt /app/\n"))
    stage = model.stages[0]
    ins = stage.of("copy")[0]
    calls: list[int] = []
    real = copies._copy_sources

    def counting(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(copies, "_copy_sources", counting)
    first = copies.copy_sources(stage, ins, model)
    second = copies.copy_sources(stage, ins, model)
    assert calls == [1]
    assert first == second == real(stage, ins, model) and first is not second
    assert [s.pattern for s in first] == ["src/a.txt", "b.txt"]


@pytest.mark.parametrize("text", ["", "a", "a\n", "\n\n", "a\nb", "a\r\n\r\nb\n", "é\nx"])
def test_line_starts_as_the_regex_gave_them(text: str) -> None:
    assert _line_starts(text) == [0, *(m.end() for m in re.finditer("\n", text))]


def test_expand_without_a_dollar_is_the_word() -> None:
    word = "/root/.cache/pip"
    assert expand(word, {"A": "1"}) is word
    assert expand("$A/x", {"A": "1"}) == "1/x"


def test_substitutions_are_read_once_per_text() -> None:
    text = 'test -n "$(apt-cache search jq)" && sh -c "echo $(apt-get -s install x)"'
    found = _substitutions(text, 3)
    assert found is _substitutions(text, 3)
    assert found == _substitutions.__wrapped__(text, 3)
    assert [c.argv[0] for _, c in found] == ["apt-cache", "apt-get", "apt-get"]


@pytest.mark.parametrize(
    "script",
    [
        "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        "sh -c 'pip install x && bash -c \"npm ci\"' && echo $HOME",
        "chroot /rootfs apt-get clean; D=/x make -C $D",
    ],
)
def test_step_commands_are_the_steps_words(script: str) -> None:
    ins = parse(f"FROM debian\nRUN {script}\n").instructions[1]
    run = run_script(ins)
    assert run is not None
    steps = run_steps(run, berry=False)
    assert [(s.command, s.program, list(s.args)) for s in steps] == step_commands(run.commands)


def test_names_classifies_only_a_run_whose_words_match(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "FROM python:3.12\nENV W=/root/.cache\n"
        "RUN pip install flask\nRUN echo $PATH > /tmp/p\nRUN ls $W/pip && rm -rf $W/pip\n"
    )
    doc = Document(parse(text), BuildContext(None))
    stage = doc.model.stages[0]
    _, echo, reader = stage.of("run")
    history = History(doc, berry=False)
    classified: list[int] = []
    real = History.steps

    def counting(self: History, ins):  # type: ignore[no-untyped-def]
        classified.append(ins.start_line)
        return real(self, ins)

    monkeypatch.setattr(History, "steps", counting)
    assert not history.names(stage, echo, "/root/.cache/pip")
    assert history.names(stage, reader, "/root/.cache/pip")  # ls $W/pip; its rm does not count
    assert classified == [5]  # the echo is parsed, never classified


def test_configured_reads_only_the_asking_runs_lineage(monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.transforms.cache_mount.plan as cache_plan

    read: list[int] = []
    real = cache_plan._copies_config

    def counting(doc, stage, ins, manager):  # type: ignore[no-untyped-def]
        read.append(ins.start_line)
        return real(doc, stage, ins, manager)

    monkeypatch.setattr(cache_plan, "_copies_config", counting)
    text = (
        "FROM python:3.12 AS build\nCOPY pip.conf /etc/pip.conf\nRUN pip config set global.cache-dir /c\n"
        "RUN pip install flask\n"
        "FROM python:3.12\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nRUN pip install requests\n"
        "COPY c.txt /c.txt\n"
    )
    result = rewrite(text, None, BuildContext(None), Settings())
    messages = [f.message for f in result.suggestions]
    # the RUN that sets the cache is named before the COPY that brings pip.conf
    assert any("RUN at line 3 configures where it caches" in m for m in messages), messages
    # the build stage's COPYs go unread once its RUN answers; line 9 comes after every install
    assert 9 not in read and 2 not in read


def test_walk_works_out_redirect_owners_only_under_a_redirect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import msdfix.shell.commands as commands

    asked: list[int] = []
    real = commands._owners

    def counting(node, redirect):  # type: ignore[no-untyped-def]
        asked.append(1)
        return real(node, redirect)

    monkeypatch.setattr(commands, "_owners", counting)
    plain = commands._parse("apt-get update && (cd /x; make) | tee log; if true; then ls; fi")
    programs = [c.argv[0] for c in plain]
    assert asked == [] and programs == ["apt-get", "cd", "make", "tee", "true", "ls"]
    redirected = commands._parse("a && b > /dev/null")
    assert asked and [c.redirects for c in redirected] == [[], ["> /dev/null"]]


class _Counted(list):  # type: ignore[type-arg]
    """A list that counts the walks over it."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.walks += 1
        return super().__iter__()


def test_unguarded_refresh_looks_for_a_refresh_only() -> None:
    from msdfix.transforms.cache_mount.steps import _unguarded_refresh

    ins = parse("FROM debian\nRUN apt-get update; apt-get install -y curl\n").instructions[1]
    run = run_script(ins)
    assert run is not None
    steps = run_steps(run, berry=False)
    refresh, install = steps
    refresh = refresh._replace(conditional=False, unguarded=False)  # as _steps makes it
    commands = _Counted(run.commands)
    assert _unguarded_refresh(install, steps, commands, False) is install
    assert commands.walks == 0  # an install is no refresh: where it stands is not looked for
    unguarded = _unguarded_refresh(refresh, steps, commands, False)
    assert commands.walks > 0 and unguarded.unguarded and unguarded.conditional


def test_decline_reads_cleanups_for_a_store_only_where_it_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from msdfix.transforms.cache_mount.steps import Step

    asked: list[str] = []
    real = Step.cleans

    def counting(self, target, resolver):  # type: ignore[no-untyped-def]
        asked.append(target)
        return real(self, target, resolver)

    monkeypatch.setattr(Step, "cleans", counting)
    result = rewrite(
        "FROM python:3.12\nRUN pip install flask\n", None, BuildContext(None), Settings()
    )
    assert "--mount=type=cache,target=/root/.cache/pip" in result.output
    # pip's cache is no dependency store: whether the RUN keeps it is never asked; the
    # planner asks once whether the RUN deletes it, and the cleanup edits once
    assert asked == ["/root/.cache/pip"] * 2


def test_substitution_read_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.transforms.cache_mount.history as history_module

    asked: list[int] = []
    real = history_module.substitution_read

    def counting(script, steps):  # type: ignore[no-untyped-def]
        asked.append(script.ins.start_line)
        return real(script, steps)

    monkeypatch.setattr(history_module, "substitution_read", counting)
    text = (
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
        'RUN echo hi\nRUN test -n "$(apt-cache search jq)"\n'
    )
    doc = Document(parse(text), BuildContext(None))
    stage = doc.model.stages[0]
    first = stage.of("run")[0]
    history = History(doc, berry=False)
    for target in ("/var/lib/apt/lists", "/var/lib/apt/lists", "/var/cache/apt"):
        assert history.index_reader(stage, first, target) is stage.of("run")[2]
    assert asked == [3, 4]  # each later RUN once, whatever the target and however often


def test_configured_once_per_tool_of_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.transforms.cache_mount.plan as cache_plan

    asked: list[str] = []
    real = cache_plan._Planner._find_configured

    def counting(self, manager):  # type: ignore[no-untyped-def]
        asked.append(manager.id)
        return real(self, manager)

    monkeypatch.setattr(cache_plan._Planner, "_find_configured", counting)
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && apt-get install -y jq\n"
    )
    result = rewrite(text, None, BuildContext(None), Settings())
    assert "--mount=type=cache,target=/var/cache/apt" in result.output  # two caches, 3 calls
    assert asked.count("apt") == 2  # once on each pass, not once per cache and call


def test_exports_without_a_declaration_scan_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.shell.classify as classify

    scripts = [
        "export A=1 B='x y' && pip install .",
        "declare -x C=2; typeset -rx D=3",
        "pip install --no-cache-dir flask",
    ]
    direct = [
        [
            (found.start(), pair.group(1), pair.group(2).strip("'\""))
            for found in classify._EXPORT.finditer(script)
            for pair in classify._PAIR.finditer(found.group(1))
        ]
        for script in scripts
    ]
    assert [classify.exports(s) for s in scripts] == direct
    assert direct[0] and direct[1]

    class Unread:
        def finditer(self, text: str) -> None:
            raise AssertionError(f"scanned {text!r}")

    monkeypatch.setattr(classify, "_EXPORT", Unread())
    assert classify.exports(scripts[2]) == []


@pytest.mark.parametrize(
    "text",
    [
        "export PIP_CACHE_DIR=/x",
        "$PIP_CACHE_DIR=/x",
        "XPIP_CACHE_DIR=/x",
        "a;PIP_CACHE_DIR=",
        "PIP_CACHE_DIR =/x",
        "éPIP_CACHE_DIR=/x",
        "HOME=/h pip",
        "echo $HOME=1; HOME=2",
        "",
        "PIP_CACHE_DIR",
        "x=PIP_CACHE_DIR=1",
    ],
)
def test_assigned_names_as_the_regex_finds_them(text: str) -> None:
    from msdfix.transforms.cache_mount.targets import _assigns

    found = set(re.findall(r"(?<![\w$])(\w+)=", text))
    for name in ("PIP_CACHE_DIR", "HOME", "X", "a"):
        assert _assigns(text, name) == (name in found), (text, name)


def _unsearchable(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    class Unsearched:
        def search(self, text: str) -> None:
            raise AssertionError(f"searched {text!r}")

    monkeypatch.setattr(module, name, Unsearched())


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\n# msdfix: ignore-file\n",
        "\ufeff#MSDFIX:Ignore-File why\nFROM a\n",
        "FROM a\n# mſdfix: ignore-file\n",
        "FROM a\nRUN echo msdfix\n",
        "FROM a\n",
    ],
)
def test_file_pragma_as_the_regex_finds_it(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.syntax.pragmas as pragmas

    expected = pragmas.FILE_PRAGMA_RE.search(text) is not None
    assert pragmas.ignores_file(text) == expected
    if text.isascii() and "msdfix" not in text.lower():
        _unsearchable(monkeypatch, pragmas, "FILE_PRAGMA_RE")
        assert not pragmas.ignores_file(text)


@pytest.mark.parametrize(
    "text",
    [
        "npm config set cache /c",
        "go ENV -w GOMODCACHE=/m",
        "pip install x",
        "RESET=1 x",
        "npm config ſet cache /c",
        "apt-get install -y curl",
        "set -e && npm ci",
        "pnpm config set store-dir /s",
        "yarn config set yarn-offline-mirror /m",
        "yarn config set -H enableNetwork false",
        "go env -w GOPROXY=off",
        "composer config set x COMPOSER_DISABLE_NETWORK=1",
        "npm config set offline true",
    ],
)
def test_config_set_as_the_regex_finds_it(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import msdfix.transforms.cache_mount.plan as cache_plan
    from msdfix.ecosystems.registry import MANAGERS

    may = cache_plan._may_set_config.__wrapped__
    for manager, only in [(m, o) for m in MANAGERS for o in (False, True)]:
        setting = manager.offline_config_keys
        setter = cache_plan._config_setter(manager.programs, manager.offline_env, only, setting)
        assert bool(may(text) and setter.search(text)) == bool(setter.search(text))
    words = [w in text.lower() for w in ("set", "env", "cache", "store", "off", "network")]
    if text.isascii() and (not any(words[:2]) or not any(words[2:])):
        _unsearchable(monkeypatch, cache_plan, "_CONFIG_SET")
        assert not may(text)


@pytest.mark.parametrize(
    "text",
    [
        "RUN set -a && . ./env && pip install x",
        "RUN set -ex; pip install x",
        ". ./env",
        "source /x",
        "RUN cd /app; source venv/bin/activate && pip install .",
        "RUN a|. x",
        "RUN pip install -r a.txt",
        "RUN (source x)",
        "RUN unset -a",
        "RUN echo x.source y",
        "RUN set  -eua",
        "sourcex y",
        "RUN x &&\tsource\ty",
    ],
)
def test_sets_all_as_one_regex_finds_it(text: str) -> None:
    from msdfix.transforms.cache_mount.targets import sets_all

    one = re.compile(r"\bset\s+-\w*a|(?:^|[;&|(]\s*)(?:\.|source)\s+\S")
    assert sets_all(text) == (one.search(text) is not None)


class _CountingPattern:
    """A compiled pattern that counts its searches."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.searches = pattern, 0

    def search(self, text: str) -> re.Match[str] | None:
        self.searches += 1
        return self.pattern.search(text)


def test_accounts_changed_reads_each_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _CountingPattern(targets._ACCOUNTS)
    monkeypatch.setattr(targets, "_ACCOUNTS", counting)
    runs = "".join(f"RUN npm install --no-save pkg{i}\n" for i in range(60))
    text = f'FROM node:18\nUSER node\nWORKDIR /home/node\n{runs}CMD ["node", "app.js"]\n'
    rewrite(text, None, BuildContext(None), Settings())
    assert 0 < counting.searches <= 60  # each RUN's resolver asks: 1,770 searches before


_ACCOUNT_STAGES = """\
FROM node:18 AS base
RUN echo one
RUN usermod -u 1001 node
RUN echo two
FROM base AS child
RUN echo three
FROM node:18 AS other
RUN echo four
RUN echo five >> /etc/passwd
FROM other
RUN echo six
"""


def test_accounts_changed_as_the_lineage_walk_gives_it() -> None:
    model = build_model(parse(_ACCOUNT_STAGES))

    def direct(stage, ins):  # type: ignore[no-untyped-def]
        return any(
            targets._ACCOUNTS.search(run.logical)
            for st in stage.lineage
            for run in st.of("run")
            if st is not stage or run.start < ins.start
        )

    answers = [
        targets._accounts_changed(stage, ins) for stage in model.stages for ins in stage.of("run")
    ]
    expected = [direct(stage, ins) for stage in model.stages for ins in stage.of("run")]
    assert answers == expected == [False, False, True, True, False, False, True]


_SHELLS = """\
FROM debian:12 AS base
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN echo one
SHELL ["/bin/sh", "-c"]
RUN echo two
FROM base
RUN echo three
SHELL ["/bin/bash", "-e", "-c"]
RUN echo four
RUN ["echo", "five"]
FROM debian:12
RUN echo six
"""


def test_shell_errexit_lists_the_lineages_shells_once(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = Document(parse(_SHELLS), BuildContext(None))
    history = History(doc, False)
    runs = [i for s in doc.model.stages for i in s.of("run")]
    reads: list[int] = []
    real = Stage.lineage

    def counting(stage: Stage) -> list[Stage]:
        reads.append(1)
        return real.fget(stage)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(Stage, "lineage", property(counting))
    answers = [history.shell_errexit(ins) for ins in runs]
    assert answers == [True, False, False, True, False, False]
    assert len(reads) == 3  # once per stage with a shell-form RUN (5 before: per RUN)


def _cleared_later_directly(history: History, stage: Stage, ins: Instruction, target: str) -> bool:
    """``cleared_later`` as it was: every later RUN of the stage tested per question."""
    runs = stage.of("run")
    for other in runs[runs.index(ins) + 1 :]:
        steps = history.steps(other)
        if steps is not None and history._clears(stage, other, steps, target):
            return True
    return False


def test_cleared_later_tests_each_run_once_per_target(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["FROM debian:12"]
    for i in range(40):
        clean = " && rm -rf /var/lib/apt/lists/*" if i in (9, 25) else ""
        lines.append(f"RUN apt-get update && apt-get install -y pkg{i}{clean}")
    lines.append("RUN rm -rf /var/cache/apt/archives/* || true")
    doc = Document(parse("\n".join(lines) + "\n"), BuildContext(None))
    stage = doc.model.stages[0]
    runs = stage.of("run")
    targets = ["/var/lib/apt/lists", "/var/cache/apt/archives"]
    expected = [
        _cleared_later_directly(History(doc, False), stage, ins, t) for t in targets for ins in runs
    ]
    history = History(doc, False)
    calls: list[int] = []
    real = History._clears

    def counting(self, *args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(History, "_clears", counting)
    answers = [history.cleared_later(stage, ins, t) for t in targets for ins in runs]
    assert answers == expected
    assert answers[:26] == [True] * 25 + [False] and answers[41:] == [True] * 40 + [False]
    assert len(calls) <= 2 * len(runs)  # 1,121 before: every later RUN per question


_CONFIGURING = """\
FROM node:18 AS base
COPY .npmrc /root/.npmrc
RUN npm install -g pnpm
RUN npm config set cache /var/cache/npm
RUN npm install
FROM base AS child
RUN npm ci
FROM node:18
COPY .npmrc /root/.npmrc
RUN npm install
RUN npm ci
"""


def _first_directly(stage: Stage, ins: Instruction, kinds: tuple[str, ...], test) -> object:  # type: ignore[no-untyped-def]
    """The first instruction of ``kinds`` in the lineage up to ``ins`` that passes ``test``."""
    for st in stage.lineage:
        for other in st.of(*kinds):
            if st is stage and other.start > ins.start:
                break
            if test(st, other):
                return other
    return None


@pytest.mark.parametrize("order", [1, -1])
def test_first_before_as_the_lineage_walk_gives_it(order: int) -> None:
    doc = Document(parse(_CONFIGURING), BuildContext(None))
    history = History(doc, False)
    asked = [(s, i) for s in doc.model.stages for i in s.instructions][::order]

    def sets(stage: Stage, ins: Instruction) -> bool:
        return "config set" in ins.logical or ".npmrc" in ins.logical

    for kinds in (("run",), ("copy", "add")):
        key = f"test {kinds[0]}"
        found = [history.first_before(s, i, key, kinds, sets) for s, i in asked]
        assert found == [_first_directly(s, i, kinds, sets) for s, i in asked]
    lines = [
        i.start_line for s, i in asked if history.first_before(s, i, "test run", ("run",), sets)
    ]
    assert sorted(lines) == [4, 5, 7]  # the setter itself, and after it in its lineage


def test_configured_reads_the_lineage_once_per_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[str, ...]] = []
    real = Stage.of

    def counting(stage: Stage, *cmds: str) -> list[Instruction]:
        reads.append(cmds)
        return real(stage, *cmds)

    monkeypatch.setattr(Stage, "of", counting)
    found = []
    for n in (50, 100):
        reads.clear()
        runs = "".join(f"RUN npm install --no-save pkg{i}\n" for i in range(n))
        text = f'FROM node:18\n{runs}CMD ["node", "app.js"]\n'
        rewrite(text, None, BuildContext(None), Settings())
        found.append(reads.count(("copy", "add")))
    assert found[0] == found[1]  # none per RUN and tool: 104 and 204 before


SRC = str(Path(msdfix.__file__).resolve().parents[1])
_UNUSED_AT_START = """
import sys
from msdfix.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(sorted(m for m in ("concurrent.futures", "xml.etree.ElementTree") if m in sys.modules))
"""


@pytest.mark.parametrize("jobs", [[], ["--jobs", "1"]])
def test_a_run_without_a_pool_or_a_pom_imports_neither(tmp_path: Path, jobs: list[str]) -> None:
    # the process pool and the XML parser cost start-up instructions: one file (or --jobs 1)
    # starts no pool, and only a context's pom.xml needs the parser
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN apt-get update\n")
    if jobs:
        (tmp_path / "b.Dockerfile").write_text("FROM node:20\nCOPY . .\nRUN npm ci\n")
    argv = ["-q", *jobs, str(tmp_path / "Dockerfile" if not jobs else tmp_path)]
    out = subprocess.run(
        [sys.executable, "-c", _UNUSED_AT_START.format(args=argv)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": SRC},
    )  # fmt: skip
    assert out.stdout.splitlines()[-1] == "[]"


def test_a_folder_resolves_and_reads_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every reader of a source (fonts, netbase, locales, libraries, tools) asked the file
    # system again: the link check and the text are kept per folder, read anew once the file
    # is replaced (--write)
    import msdfix.model.context as context

    (tmp_path / "app.py").write_text("print(1)\n")
    os.symlink("/etc/hostname", tmp_path / "out.txt")
    resolved: list[Path] = []
    real_within = context.resolves_within
    monkeypatch.setattr(
        context, "resolves_within", lambda p, r: resolved.append(p) or real_within(p, r)
    )
    decoded: list[bytes] = []
    real_decode = context.decode
    monkeypatch.setattr(context, "decode", lambda d: decoded.append(d) or real_decode(d))
    cache = context.ContextCache()
    one = BuildContext(tmp_path, tmp_path / "one.Dockerfile", cache)
    two = BuildContext(tmp_path, tmp_path / "two.Dockerfile", cache)
    for ctx in (one, two, one):
        assert ctx.read_text("app.py") == "print(1)\n"
        assert ctx.read_text("out.txt") is None  # a link out of the context, every time
    assert len(resolved) == 2 and len(decoded) == 1
    assert one.read_text("app.py", limit=3) is None  # the limit still applies to a kept text
    (tmp_path / "new.py").write_text("print(2)\n")
    os.replace(tmp_path / "new.py", tmp_path / "app.py")
    assert two.read_text("app.py") == "print(2)\n" and len(decoded) == 2


def test_slim_lacks_reads_a_folders_sources_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every Dockerfile of a repository built from its root, and each lacking package, asked
    # again: the sources are searched once per folder and ignore file
    import msdfix.ecosystems.slim_lacks as slim_lacks
    from msdfix.model.context import ContextCache

    (tmp_path / "app.py").write_text('font = "Arial.ttf"\n')
    (tmp_path / "net.rb").write_text("Socket.getservbyname('https')\n")
    listed: list[int] = []
    real_sources = slim_lacks._sources
    monkeypatch.setattr(slim_lacks, "_sources", lambda c: listed.append(1) or real_sources(c))
    cache = ContextCache()
    contexts = [BuildContext(tmp_path, tmp_path / f"{n}.Dockerfile", cache) for n in "ab"]
    for ctx in contexts:
        assert slim_lacks.system_font_use(ctx, ["node app.js"]) == (
            "app.py loads Arial.ttf by name, from the system's font folders"
        )
        assert slim_lacks.netbase_use(ctx, []) == "net.rb names getservbyname"
    assert len(listed) == 3  # fonts named, font files, netbase: once each
    assert slim_lacks.system_font_use(contexts[0], ["fc-list"]) == (
        "the start command names fc-list"
    )  # the start commands are read for each Dockerfile


@pytest.mark.parametrize(
    ("pattern", "needles", "text"),
    [
        ("SYSTEM_FONT_USE", "SYSTEM_FONT_NEEDLES", text)
        for text in ["/usr/share/fonts/x", "/etc/fonts", "fc-match", "fontconfig", "DejaVuSans"]
    ]
    + [
        ("NETBASE_USE", "NETBASE_NEEDLES", text)
        for text in [
            "/etc/services",
            "/etc/protocols",
            "/etc/rpc",
            "getservbyport(",
            "getprotobyname",
            "dns.lookupService(",
        ]  # fmt: skip
    ],
)
def test_every_match_holds_a_needle(pattern: str, needles: str, text: str) -> None:
    # a source holding no needle is not given to the regex: each kind of match holds one
    import msdfix.ecosystems.images as images

    found = getattr(images, pattern).search(f"x = '{text}'")
    assert found is not None
    assert any(n in found.group(0) for n in getattr(images, needles))


def test_a_locale_is_looked_for_only_where_one_may_be_set() -> None:
    from msdfix.transforms.slim_base.excluded import _locale_set

    assert _locale_set("export LC_ALL=de_DE.UTF-8") == "LC_ALL=de_DE.UTF-8"
    assert _locale_set("env LANGUAGE=it:en app") == "LANGUAGE=it:en"
    assert _locale_set("LANG=C.UTF-8 x") is None and _locale_set("no locale") is None


def test_an_ignore_line_is_matched_once_per_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dockerignore judged its conventional lines against every path of the context for each
    # Dockerfile of the folder and each pass of the engine
    from msdfix.model.context import ContextCache
    from msdfix.model.dockerignore import DockerIgnore
    from msdfix.model.pending import PendingIgnore, excluded_by

    for rel in ["a.pyc", "src/b.pyc", "src/c.py", ".git/HEAD"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    asked: list[str] = []
    real = DockerIgnore.excludes
    monkeypatch.setattr(DockerIgnore, "excludes", lambda s, p: asked.append(p) or real(s, p))
    cache = ContextCache()
    one = BuildContext(tmp_path, tmp_path / "one.Dockerfile", cache)
    pending = PendingIgnore(one, ".git\n")
    assert excluded_by(one, "**/*.pyc") == {"a.pyc", "src/b.pyc"}
    matched = len(asked)
    assert excluded_by(pending, "**/*.pyc") == {"a.pyc", "src/b.pyc"}
    assert len(asked) == matched  # the pending context shares the base's paths and answers
