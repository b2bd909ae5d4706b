"""Shell analysis of RUN: simple commands, operators, cd tracking, package-manager calls."""

from __future__ import annotations

import pytest

from msdfix.model import build_model
from msdfix.shell import parse_commands, run_script
from msdfix.shell.classify import program_args, tool_calls
from msdfix.shell.entry import entry
from msdfix.syntax import parse


def test_commands_operators_and_cd() -> None:
    commands = parse_commands(
        "apt-get update && cd /app && FOO=1 pip install -r 'req s.txt' | tee log; if true; then npm ci; fi"
    )
    assert [c.argv for c in commands] == [
        ["apt-get", "update"], ["cd", "/app"], ["pip", "install", "-r", "req s.txt"], ["tee", "log"],
        ["true"], ["npm", "ci"],
    ]  # fmt: skip
    assert [c.op_before for c in commands[:4]] == [None, "&&", "&&", "|"]
    assert commands[2].cwd == "/app" and commands[2].assignments == {"FOO": "1"}
    assert commands[5].nested and not commands[2].nested


def test_relative_cd_accumulates() -> None:
    commands = parse_commands("cd /srv && cd web && npm ci")
    assert commands[2].cwd == "/srv/web"


def test_run_script_maps_offsets_across_continuations() -> None:
    text = "FROM x\nRUN pip install \\\n    --no-cache-dir flask\n"
    ins = parse(text).instructions[1]
    script = run_script(ins, text)
    assert script is not None and script.editable
    word = script.commands[0].words[2]
    assert word.value == "--no-cache-dir"
    assert text[script.physical(word.start) : script.physical(word.end - 1) + 1] == "--no-cache-dir"


def test_run_script_is_worked_out_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each transform of a pass asks for the same RUN's script: parsed once, while each
    caller still gets its own command list; another file text is worked out again."""
    import msdfix.shell.script as script_module

    text = "FROM x\nRUN apt-get update && apt-get install -y curl\n"
    ins = parse(text).instructions[1]
    first = run_script(ins, text)
    monkeypatch.setattr(script_module, "parse_commands", lambda _: pytest.fail("parsed again"))
    second = run_script(ins, text)
    assert first is not None and second is not None and first is not second
    assert second.text == first.text and second.commands == first.commands
    first.commands.pop()
    assert len(second.commands) == 2 and second.source is text
    monkeypatch.undo()
    other = text + "# another text\n"
    assert run_script(ins, other) is not None and run_script(ins, other).source is other


def test_heredoc_script() -> None:
    text = "FROM x\nRUN <<EOF\napt-get update\npip install a\nEOF\n"
    script = run_script(parse(text).instructions[1], text)
    assert script is not None and [c.argv[0] for c in script.commands] == ["apt-get", "pip"]
    assert text[script.physical(script.commands[1].start) :].startswith("pip install a")


@pytest.mark.parametrize("tail, body", [("sh", True), ("x", False)])
def test_heredoc_line_with_a_long_run_of_spaces(tail: str, body: bool) -> None:
    """``<<EOF``, spaces, then not a shell: the heredoc-only regex split the spaces between its
    two runs in every way before failing (quadratic; 300,000 spaces took minutes)."""
    from support.deadline import deadline
    from support.fold import fold

    text = fold("FROM x\nRUN <<EOF" + " " * 300_000 + tail + "\napt-get update\nEOF\n")
    with deadline():
        script = run_script(parse(text).instructions[1], text)
    assert script is not None
    assert [c.argv[0] for c in script.commands] == (["apt-get"] if body else [tail])


def test_exec_form_is_not_editable() -> None:
    text = 'FROM x\nRUN ["npm", "ci"]\n'
    script = run_script(parse(text).instructions[1], text)
    assert script is not None and not script.editable and script.commands[0].argv == ["npm", "ci"]


@pytest.mark.parametrize("shell", ["sh", "/bin/bash", "ash", "/usr/bin/dash"])
def test_exec_form_shell_scripts_are_read_for_every_posix_shell(shell: str) -> None:
    text = f'FROM x\nRUN ["{shell}", "-c", "apk add curl && npm ci"]\n'
    script = run_script(parse(text).instructions[1], text)
    assert script is not None and [c.argv[0] for c in script.commands] == ["apk", "npm"]


def test_tool_calls() -> None:
    commands = parse_commands(
        "sudo apt-get -y install curl && python3 -m pip install x && go version && go build . && yarn && npm run build"
    )
    assert [(c.manager.id, c.subcommand) for c in tool_calls(commands)] == [
        ("apt", "install"), ("pip", "install"), ("go", "build"), ("yarn", ""),
    ]  # fmt: skip
    assert [c.manager.id for c in tool_calls(parse_commands("yarn install"), berry=True)] == [
        "yarn-berry"
    ]


@pytest.mark.parametrize(
    "script",
    ["env -u PIP_INDEX_URL pip install x", "env --unset HOME -C /src pip install x",
     "env -i PATH=/usr/bin --chdir /src pip install x"],
)  # fmt: skip
def test_env_options_with_a_value_are_not_the_program(script: str) -> None:
    """``env -u NAME cmd`` had read NAME as the program, so the pip under it went unseen."""
    calls = tool_calls(parse_commands(script))
    assert [(c.manager.id, c.subcommand) for c in calls] == [("pip", "install")]


def test_non_ascii_scripts_keep_offsets() -> None:
    commands = parse_commands("echo 'héllo wörld' && pip install x")
    assert commands[1].argv == ["pip", "install", "x"]
    assert "echo 'héllo wörld' && pip install x"[commands[1].start :] == "pip install x"


def test_removals_never_leave_a_line_continuation() -> None:
    """An escaped space before `&& rm -rf` (or before a removed flag): removing the tail would
    leave the line ending in `\\`, and BuildKit would join the next instruction to the RUN."""
    from msdfix.shell.edit import command_removal, word_removal

    text = "FROM x\nRUN apt-get install -y curl\\ && rm -rf /var/lib/apt/lists/*\nRUN echo next\n"
    script = run_script(parse(text).instructions[1], text)
    assert script is not None
    assert command_removal(script, 1) is None
    # Three backslashes end no line, but the escaped blank still belongs to `curl\\ `.
    text = text.replace("curl\\", "curl\\\\\\")
    script = run_script(parse(text).instructions[1], text)
    assert script is not None
    span = command_removal(script, 1)
    assert span is not None and text[: span[0]].endswith("curl\\\\\\ ")
    text = "FROM x\nRUN pip install x\\  --no-cache-dir\nRUN echo next\n"
    script = run_script(parse(text).instructions[1], text)
    assert script is not None
    command = script.commands[0]
    assert command.words[-1].value == "--no-cache-dir"
    assert word_removal(script, command, command.words[-1]) is None
    # Without the escape the same removals are fine.
    plain = "FROM x\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nRUN echo next\n"
    script = run_script(parse(plain).instructions[1], plain)
    assert script is not None
    span = command_removal(script, 1)
    assert span is not None
    assert (
        plain[: span[0]] + plain[span[1] :]
        == "FROM x\nRUN apt-get install -y curl\nRUN echo next\n"
    )


def test_redirects_belong_to_their_own_command_in_a_long_chain() -> None:
    """Each command of a long ``&&`` chain (a deeply nested tree) gets the redirects of its
    own redirected statement, and only those."""
    parts = [
        f"apt-get install -y p{i} > /log{i}" if i % 3 == 0 else f"cd d{i}" for i in range(3000)
    ]
    commands = parse_commands(" && ".join(parts))
    assert len(commands) == 3000
    for i, command in enumerate(commands):
        assert command.redirects == ([f"> /log{i}"] if i % 3 == 0 else []), i


@pytest.mark.parametrize(
    ("script", "owner"),
    [
        ("a && b > x", 1),
        ("a | b > x", 1),
        ("a && b | c > x 2>&1", 2),
        ("a > x && b", 0),
        ("a; b > x", 1),
    ],
)
def test_a_trailing_redirect_belongs_to_the_last_command_as_in_bash(
    script: str, owner: int
) -> None:
    """tree-sitter-bash reads ``a && b > x`` as ``(a && b) > x``; bash redirects ``b`` only."""
    commands = parse_commands(script)
    assert [bool(c.redirects) for c in commands] == [i == owner for i in range(len(commands))]


def test_removing_a_cleanup_never_hands_its_redirect_to_the_install() -> None:
    """``pip install x && rm -rf /root/.cache/pip 2> /tmp/err.log`` became
    ``pip install x 2> /tmp/err.log``: pip's errors went into the image. The cleanup stays."""
    from msdfix.engine import rewrite

    text = "FROM python:3.12\nRUN pip install flask && rm -rf /root/.cache/pip 2> /tmp/err.log\n"
    result = rewrite(text)
    assert "2> /tmp/err.log" not in result.output.replace("/root/.cache/pip 2> /tmp/err.log", "")
    assert "rm -rf /root/.cache/pip 2> /tmp/err.log" in result.output


@pytest.mark.parametrize(
    "script, programs",
    [
        (
            "REV=$(git rev-parse --short HEAD); exec gunicorn app:app",
            [["git", "rev-parse", "--short", "HEAD"]],
        ),
        ('echo "v=`curl -s x | jq .v`" > f', [["curl", "-s", "x"], ["jq", ".v"]]),
        ("a $(b $(c d))", [["b", "$(c d)"], ["c", "d"]]),
        ("source <(kubectl completion bash)", [["kubectl", "completion", "bash"]]),
        ('echo "é $(git log)"', [["git", "log"]]),
        ("x=$(< file); echo hi", []),
    ],
)
def test_substituted_commands_are_commands_the_script_runs(
    script: str, programs: list[list[str]]
) -> None:
    """$(...), backquotes and <(...) run programs, in words and assignments alike; spans are
    the script's."""
    from msdfix.shell.commands import substituted_commands

    found = substituted_commands(script)
    assert [c.argv for c in found] == programs
    assert all(c.nested and script[c.words[0].start : c.words[0].end] == c.argv[0] for c in found)


def test_deeply_nested_substitutions_are_parsed_once() -> None:
    """Each ``$(`` level was parsed again from its text: depth 10,000 took minutes."""
    from msdfix.shell.commands import MAX_SUBSTITUTION_DEPTH, UNREAD_SUBSTITUTION, commands_run
    from support.deadline import deadline

    depth = 10000
    script = "echo " + "$(" * depth + "pip install x" + ")" * depth
    with deadline(30, cpu=True):
        found = commands_run(script)
    # past MAX_SUBSTITUTION_DEPTH levels the rest is one command whose program is unknown
    assert len(found) == MAX_SUBSTITUTION_DEPTH + 2
    assert found[-1].name == UNREAD_SUBSTITUTION and found[-1].nested
    assert script[found[-1].start : found[-1].end].startswith("$($(")
    shallow = "echo " + "$(" * 10 + "pip install x" + ")" * 10
    inner = commands_run(shallow)[-1]
    assert inner.name == "pip" and shallow[inner.start : inner.end] == "pip install x"


def test_quoted_nested_substitutions_take_linear_time() -> None:
    """``"$(echo "$(echo ...)")"``: each level's word holds every deeper level's text and was
    unquoted once per level (2,000 deep: 6 s, 8,000: 83 s and 600 MB)."""
    from msdfix.shell.commands import UNREAD_SUBSTITUTION, commands_run
    from support.deadline import deadline

    script = "x"
    for _ in range(8000):
        script = f'"$(echo {script})"'
    with deadline(20, cpu=True):
        found = commands_run("echo " + script)
    assert found[-1].name == UNREAD_SUBSTITUTION


@pytest.mark.parametrize(
    "start",
    [
        'ENTRYPOINT ["tini", "--"]\nCMD ["node", "server.js"]',
        'ENTRYPOINT ["/usr/bin/tini", "-g", "--"]\nCMD ["node", "server.js"]',
        'ENTRYPOINT ["/sbin/tini", "-p", "SIGTERM", "--", "node"]\nCMD ["server.js"]',
        'ENTRYPOINT ["/usr/local/bin/dumb-init", "--single-child", "--"]\nCMD node server.js',
        'CMD ["/usr/bin/env", "NODE_ENV=production", "node", "server.js"]',
    ],
)
def test_the_program_a_container_starts_is_read_through_init_wrappers(start: str) -> None:
    """tini, dumb-init and env hand over to the program after them, by name or by path and
    with their options (``/usr/bin/tini -g --`` read as the program ``/usr/bin/tini``)."""
    stage = build_model(parse(f"FROM node:20\n{start}\n")).stages[0]
    found = entry(stage)
    assert found is not None and found.argv[:2] == ["node", "server.js"]


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("pnpm install --frozen-lockfile false", ["install", "--frozen-lockfile=false"]),
        ("npm --color false -q install", ["--color=false", "-q", "install"]),
        # round 26 (npm 10.8.2): a negated option given a value is its opposite
        ("npm ci --no-offline false", ["ci", "--offline=true"]),
        ("npm ci --no-offline=true", ["ci", "--offline=false"]),
        ("pnpm i --no-frozen-lockfile false", ["i", "--frozen-lockfile=true"]),
        ("npm ci --no-audit", ["ci", "--no-audit"]),
        ("npm exec -- true", ["exec", "--", "true"]),  # after --: operands
        ("pnpm exec -- --x true", ["exec", "--", "--x", "true"]),
        ("yarn install --frozen-lockfile true", ["install", "--frozen-lockfile", "true"]),
    ],
)
def test_npm_and_pnpm_take_a_boolean_after_a_long_option_as_its_value(
    line: str, args: list[str]
) -> None:
    """nopt (npm's and pnpm's parser) reads ``--opt false`` as ``--opt=false`` (built: pnpm 8
    and 9, npm 10); ``--`` ends the options; other programs (yarn) are read as written."""
    assert program_args(parse_commands(line)[0])[1] == args


@pytest.mark.parametrize(
    ("argv", "args"),
    [
        ("pip install -Ut /deps six", ["install", "-U", "-t", "/deps", "six"]),
        ("pip3 install -qrreq.txt", ["install", "-q", "-r", "req.txt"]),
        ("python -m pip install -qUr r.txt", ["install", "-q", "-U", "-r", "r.txt"]),
        ("pip install -t/deps -r a.txt", ["install", "-t", "/deps", "-r", "a.txt"]),
        ("pip install -r a.txt -e.", ["install", "-r", "a.txt", "-e", "."]),
        ("pip install -f./wheels -r a.txt", ["install", "-f", "./wheels", "-r", "a.txt"]),
        ("pip install -- -Ut", ["install", "--", "-Ut"]),  # operands after --
    ],
)
def test_pips_grouped_short_options_are_read_one_by_one(argv, args) -> None:
    """pip's optparse reads ``-Ut /deps`` as ``-U -t /deps``: each letter an option until
    one that takes a value, which takes the rest of the word or the next word."""
    from msdfix.shell.classify import program_args
    from msdfix.shell.commands import parse_commands

    [command] = parse_commands(argv)
    assert program_args(command)[1] == args
