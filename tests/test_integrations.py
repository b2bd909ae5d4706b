"""pre-commit hooks, the GitHub Action, and the github/sarif output formats, used as users do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from msdfix.engine import Settings
from msdfix.model import BuildContext
from msdfix.render.github import escape_data, escape_property, github_report
from msdfix.render.report import FileReport, summary_lines
from msdfix.render.sarif import apply_replacements, sarif_log
from msdfix.runner import process
from msdfix.transforms import all_transforms
from support.fake_github import TOKEN, FakeGitHub, basic, serve, step_outputs

ROOT = Path(__file__).resolve().parent.parent
# The official OASIS schema (errata01), shared read-only data; tests using it skip without it.
# MSDFIX_SARIF_SCHEMA names it for a checkout elsewhere (a worktree outside the project folder).
SCHEMA = Path(
    os.environ.get("MSDFIX_SARIF_SCHEMA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sarif-schema-2.1.0.json"
)
MSDFIX = [sys.executable, "-m", "msdfix.cli"]
PIP = (
    "FROM python:3.12-slim\n"
    "WORKDIR /app\n"
    "COPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
    "COPY . .\n"
    'CMD ["python", "app.py"]\n'
)
NODE_APT = (
    "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN apt-get install -y jq\n"
)
GO_UNSAFE = (
    "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nRUN ./configure-thing\n"
)
GO_MAIN = "package main\n\nfunc main() {}\n"
# Nothing to change and nothing to suggest: it already runs as a non-root user (non-root).
CLEAN = 'FROM alpine:3.19\nCOPY app /app\nUSER 65534:65534\nCMD ["/app"]\n'


def run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def git_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "-q", "-b", "main"], path)
    run(["git", "config", "user.name", "T"], path)
    run(["git", "config", "user.email", "t@example.com"], path)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def commit_all(path: Path) -> None:
    assert run(["git", "add", "-A"], path).returncode == 0
    assert run(["git", "commit", "-qm", "c", "--no-verify"], path).returncode == 0


def report_for(
    path: str, text: str, context: Path | None = None, unsafe: bool = False
) -> FileReport:
    return process(path, text, BuildContext(context), Settings(unsafe=unsafe))


# --- pre-commit ---


def manifest() -> list[dict[str, Any]]:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(data, list)
    return data


def test_pre_commit_hooks_manifest() -> None:
    hooks = {h["id"]: h for h in manifest()}
    assert set(hooks) == {"msdfix", "msdfix-fix"}
    assert hooks["msdfix"]["entry"] == "msdfix --check --force-exclude"
    assert hooks["msdfix-fix"]["entry"] == "msdfix --write --force-exclude --exit-non-zero-on-fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["dockerfile"]
        assert hook["name"]
        # pre-commit tags BuildKit's `Dockerfile.dockerignore` as a dockerfile too
        assert re.search(hook["exclude"], "svc/Dockerfile.dockerignore")
        assert not re.search(hook["exclude"], "svc/Dockerfile.dev")
    # pre-commit runs a hook in parallel batches unless it is serial: two Dockerfiles of one
    # folder raced on its .dockerignore ("changed while msdfix was running", exit 2)
    assert hooks["msdfix-fix"]["require_serial"] is True
    # pre-commit's own validation of a hooks manifest.
    clientlib = pytest.importorskip("pre_commit.clientlib")
    loaded = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in loaded] == ["msdfix", "msdfix-fix"]


def copy_project(dest: Path) -> Path:
    """The files a user's pre-commit or Actions runner gets: a clean copy of this project."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "action.yml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    return dest


def _pre_commit() -> str:
    exe = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pre-commit"
    )
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return exe


def _local_config(hook_ids: list[str]) -> str:
    """A `repo: local` config with the manifest's hooks, running this checkout's msdfix."""
    msdfix = shutil.which("msdfix", path=str(Path(sys.executable).parent))
    assert msdfix, "msdfix is not installed next to the test interpreter"
    hooks = {h["id"]: h for h in manifest()}
    lines = ["repos:", "  - repo: local", "    hooks:"]
    for hook_id in hook_ids:
        hook = hooks[hook_id]
        entry = hook["entry"].replace("msdfix", msdfix, 1)
        types = ", ".join(hook["types"])
        lines += [
            f"      - id: {hook_id}",
            f"        name: {hook['name']}",
            f"        entry: {entry}",
            "        language: system",
            f"        types: [{types}]",
            f"        require_serial: {str(hook.get('require_serial', False)).lower()}",
            f"        exclude: '{hook.get('exclude', '^$')}'",
        ]
    return "\n".join(lines) + "\n"


def _pre_commit_env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        NO_COLOR="1",
        HOME=str(tmp_path),
    )


def test_pre_commit_run_check_and_fix_hooks(tmp_path: Path) -> None:
    """A real `pre-commit run` in a temporary git repository (local hooks, see the docstring)."""
    exe = _pre_commit()
    repo = git_repo(
        tmp_path / "repo",
        {
            "Dockerfile": PIP,
            "requirements.txt": "flask\n",
            "ok/Dockerfile": CLEAN,
            "ok/app": "#!/bin/sh\n",
            "notes.txt": "RUN pip install x\n",
        },
    )
    (repo / ".pre-commit-config.yaml").write_text(_local_config(["msdfix"]))
    commit_all(repo)
    env = _pre_commit_env(tmp_path)

    check = run([exe, "run", "--all-files"], repo, env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert re.search(r"msdfix \(check\)\.+Failed", check.stdout)
    assert "would rewrite Dockerfile" in check.stdout
    assert "ok/Dockerfile" not in check.stdout.replace("would rewrite Dockerfile", "")
    assert "notes.txt" not in check.stdout
    assert (repo / "Dockerfile").read_text() == PIP  # check mode never writes

    (repo / ".pre-commit-config.yaml").write_text(_local_config(["msdfix-fix", "msdfix"]))
    commit_all(repo)
    fix = run([exe, "run", "--all-files"], repo, env)
    assert fix.returncode == 1  # files were modified by the hook
    assert "files were modified by this hook" in fix.stdout
    fixed = report_for("Dockerfile", PIP, repo).result
    assert fixed is not None and (repo / "Dockerfile").read_text() == fixed.output
    assert (repo / "ok" / "Dockerfile").read_text() == CLEAN
    commit_all(repo)
    again = run([exe, "run", "--all-files"], repo, env)
    assert again.returncode == 0, again.stdout
    assert re.search(r"msdfix \(check\)\.+Passed", again.stdout)


def test_pre_commit_fix_hook_fails_when_it_only_creates_a_dockerignore(tmp_path: Path) -> None:
    """pre-commit sees changed tracked files, not new ones: the fix hook passed after creating
    an untracked .dockerignore, the commit went through without it, and CI's ``msdfix --check``
    of the clean checkout then failed (``would create .dockerignore``)."""
    exe = _pre_commit()
    dockerfile = (
        'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py /app/\nCMD ["python", "app.py"]\n'
    )
    repo = git_repo(
        tmp_path / "repo", {"svc/Dockerfile": dockerfile, "svc/app.py": "", "svc/.env": "S=1\n"}
    )
    (repo / ".pre-commit-config.yaml").write_text(_local_config(["msdfix-fix"]))
    commit_all(repo)
    fix = run([exe, "run", "--all-files"], repo, _pre_commit_env(tmp_path))
    assert (repo / "svc" / ".dockerignore").exists()
    assert (repo / "svc" / "Dockerfile").read_text() == dockerfile
    assert fix.returncode == 1, fix.stdout
    assert re.search(r"msdfix \(fix\)\.+Failed", fix.stdout)


def test_pre_commit_try_repo_installs_the_hook(tmp_path: Path) -> None:
    """`pre-commit try-repo` against a committed copy of this project: pre-commit itself builds
    the hook's virtualenv from pyproject.toml (language: python), as users' pre-commit does."""
    exe = _pre_commit()
    project = copy_project(tmp_path / "msdfix-project")
    git_repo(project, {})
    commit_all(project)
    repo = git_repo(tmp_path / "repo", {"Dockerfile": PIP, "requirements.txt": "flask\n"})
    commit_all(repo)
    proc = run(
        [exe, "try-repo", str(project), "msdfix", "--all-files"],
        repo,
        _pre_commit_env(tmp_path),
        timeout=900,
    )
    if proc.returncode not in (0, 1) or "An unexpected error" in proc.stdout + proc.stderr:
        pytest.skip(
            f"pre-commit could not build the hook environment offline: {proc.stdout[-500:]}"
        )
    assert proc.returncode == 1, proc.stdout
    assert "would rewrite Dockerfile" in proc.stdout


# --- the GitHub Action ---


def action() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load((ROOT / "action.yml").read_text())
    assert isinstance(data, dict)
    return data


def _step(name: str) -> dict[str, Any]:
    steps = action()["runs"]["steps"]
    return next(s for s in steps if s["name"] == name)


def _expand(value: str, inputs: dict[str, str]) -> str:
    """Evaluate the `${{ inputs.NAME }}` / `${{ github.token }}` expressions the Action uses."""

    def repl(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs.") :]]
        assert expr == "github.token", expr
        return "ghs_fake_actions_token"

    return re.sub(r"\$\{\{(.*?)\}\}", repl, value)


def _inputs(**given: str) -> dict[str, str]:
    defaults = {k: _expand(str(v.get("default", "")), {}) for k, v in action()["inputs"].items()}
    defaults.update({k.replace("_", "-"): v for k, v in given.items()})
    return defaults


def run_step(
    name: str,
    cwd: Path,
    inputs: dict[str, str],
    bin_dir: Path,
    runner_temp: Path,
    action_path: Path = ROOT,
    runner_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one `shell: bash` step as the Actions runner would (outputs: `step_outputs`)."""
    step = _step(name)
    assert step["shell"] == "bash"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(runner_env or {})
    env.update({k: _expand(str(v), inputs) for k, v in (step.get("env") or {}).items()})
    output = runner_temp / "github_output"
    output.write_text("")
    env.update(
        GITHUB_ACTION_PATH=str(action_path),
        RUNNER_TEMP=str(runner_temp),
        NO_COLOR="1",
        GITHUB_PATH=str(runner_temp / "github_path"),
        GITHUB_OUTPUT=str(output),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
    )
    script = _expand(step["run"], inputs)
    return run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd, env, timeout=900
    )


def action_outputs(runner_temp: Path) -> dict[str, str]:
    """The Action's outputs as the workflow sees them: the step's outputs, mapped."""
    written = step_outputs((runner_temp / "github_output").read_text())
    found = {}
    for name, spec in action()["outputs"].items():
        match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", spec["value"])
        assert match and match.group(1) == "msdfix", spec
        found[name] = written.get(match.group(2), "")
    return found


def test_action_definition() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert set(data["inputs"]) == {"mode", "paths", "unsafe-fixes", "token", "args"}
    assert set(data["outputs"]) == {"result", "pr-number", "pr-url", "changed-files"}
    assert _step("Run msdfix")["id"] == "msdfix"
    assert data["inputs"]["mode"]["default"] == "check"
    assert data["inputs"]["token"]["default"] == "${{ github.token }}"
    # Inputs reach the scripts only through env (no expression is pasted into shell code).
    for step in data["runs"]["steps"]:
        assert "${{" not in step["run"]


def test_action_arrays_expand_on_old_bash() -> None:
    """macOS runners' /bin/bash is 3.2, where ``"${a[@]}"`` of an empty array is an unbound
    variable under ``set -u``: no ``--unsafe-fixes`` or no ``args`` failed the step. Every
    array is expanded in the guarded form ``${a[@]+"${a[@]}"}``."""
    for step in action()["runs"]["steps"]:
        script = step["run"]
        if "set -u" in script or "set -euo" in script:
            bare = re.findall(r'(?<!\+)"\$\{(\w+)\[@\]\}"(?!\})', script)
            assert not bare, f"{step['name']}: unguarded {bare}"


def test_action_check_mode_annotates_and_fails(tmp_path: Path) -> None:
    repo = git_repo(
        tmp_path / "repo",
        {"Dockerfile": PIP, "requirements.txt": "flask\n", "ok/Dockerfile": CLEAN},
    )
    proc = run_step("Run msdfix", repo, _inputs(), Path(sys.executable).parent, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(
        "::warning file=Dockerfile,line=4,endLine=4,title=msdfix cache-mount::"
    )
    assert "ok/Dockerfile" not in proc.stdout
    assert (repo / "Dockerfile").read_text() == PIP
    outputs = action_outputs(tmp_path)
    assert outputs["result"] == "changes" and outputs["changed-files"] == "Dockerfile"
    clean = run_step("Run msdfix", repo, _inputs(paths="ok"), Path(sys.executable).parent, tmp_path)
    assert clean.returncode == 0 and clean.stdout == ""
    assert action_outputs(tmp_path) == {
        "result": "clean",
        "changed-files": "",
        "pr-number": "",
        "pr-url": "",
    }
    bad = run_step("Run msdfix", repo, _inputs(mode="nope"), Path(sys.executable).parent, tmp_path)
    assert bad.returncode == 2 and "::error title=msdfix::unknown mode 'nope'" in bad.stdout


def test_action_inputs_on_several_lines_are_all_read(tmp_path: Path) -> None:
    """``paths`` (and ``args``) written as a YAML block, one a line: ``read -a`` read the first
    line only, so check mode passed without looking at the Dockerfiles of the other lines."""
    repo = git_repo(
        tmp_path / "repo",
        {"ok/Dockerfile": CLEAN, "app/Dockerfile": PIP, "app/requirements.txt": ""},
    )
    inputs = _inputs(paths="ok\napp\n", args="--select\ncache-mount\n")
    proc = run_step("Run msdfix", repo, inputs, Path(sys.executable).parent, tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert action_outputs(tmp_path)["changed-files"] == "app/Dockerfile"
    assert "title=msdfix cache-mount::" in proc.stdout


def test_action_unknown_mode_cannot_forge_a_workflow_command(tmp_path: Path) -> None:
    """A ``mode`` holding a newline printed a second line of its own: a workflow command."""
    repo = git_repo(tmp_path / "repo", {"Dockerfile": CLEAN})
    inputs = _inputs(mode="nope\n::add-mask::x\r::warning::%")
    proc = run_step("Run msdfix", repo, inputs, Path(sys.executable).parent, tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "::error title=msdfix::unknown mode 'nope%0A::add-mask::x%0D::warning::%25' "
        "(expected check or pr)"
    ]


def test_action_pr_mode_runs_msdfix_pr(tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], tmp_path)
    repo = git_repo(tmp_path / "repo", {"Dockerfile": PIP, "requirements.txt": "flask\n"})
    commit_all(repo)
    run(["git", "remote", "add", "origin", str(bare)], repo)
    assert run(["git", "push", "-q", "origin", "main"], repo).returncode == 0
    inputs = _inputs(mode="pr", args="--dry-run --repo o/r --label msdfix")
    proc = run_step("Run msdfix", repo, inputs, Path(sys.executable).parent, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Title: msdfix: optimize Dockerfile (cache-mount)")
    assert "dry run: would commit 1 file(s) on main" in proc.stderr
    assert "ghs_fake_actions_token" not in proc.stdout + proc.stderr


def test_action_pr_mode_pushes_with_the_token_input_over_checkout_credentials(
    tmp_path: Path,
) -> None:
    """The Action after actions/checkout with persist-credentials (its default): the checkout's
    token sits in .git/config as an extraheader. The push must use the `token` input (a PAT
    here, so that the pull request triggers workflows), and the outputs name the pull request."""
    pat = TOKEN
    bare = tmp_path / "srv" / "o" / "r.git"
    bare.parent.mkdir(parents=True)
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], tmp_path)
    fake = FakeGitHub(token=pat, git_root=tmp_path / "srv")
    with serve(fake.handle) as server:
        fake.url = server
        seed = git_repo(tmp_path / "seed", {"svc/Dockerfile": PIP, "svc/requirements.txt": "x\n"})
        commit_all(seed)
        assert run(["git", "push", "-q", str(bare), "main"], seed).returncode == 0
        repo = tmp_path / "repo"
        assert run(["git", "clone", "-q", str(bare), str(repo)], tmp_path).returncode == 0
        url = f"{server}/git/o/r.git"
        run(["git", "remote", "set-url", "origin", url], repo)
        checkout_header = "AUTHORIZATION: " + basic("ghs_fake_actions_token")
        run(["git", "config", f"http.{server}/.extraheader", checkout_header], repo)
        config_before = (repo / ".git" / "config").read_text()
        runner_env = {"GITHUB_SERVER_URL": server, "GITHUB_API_URL": server}
        inputs = _inputs(mode="pr", token=pat, args="--label msdfix")
        bin_dir = Path(sys.executable).parent
        proc = run_step("Run msdfix", repo, inputs, bin_dir, tmp_path, runner_env=runner_env)
        assert proc.returncode == 0, proc.stderr
        assert "opened pull request #1" in proc.stderr
        assert fake.git_auth and set(fake.git_auth) == {basic(pat)}
        assert fake.pulls[1]["head"]["ref"] == "msdfix/optimize" and fake.labels == {1: ["msdfix"]}
        pushed = run(["git", "rev-parse", "msdfix/optimize"], bare)
        assert pushed.returncode == 0, pushed.stderr
        outputs = action_outputs(tmp_path)
        assert outputs == {
            "result": "opened",
            "pr-number": "1",
            "pr-url": "https://github.example/o/r/pull/1",
            "changed-files": "svc/Dockerfile",
        }
        assert (repo / ".git" / "config").read_text() == config_before
        output_file = (tmp_path / "github_output").read_text()
        for text in (proc.stdout, proc.stderr, output_file, config_before):
            assert pat not in text


def test_readme_workflow_matches_the_action() -> None:
    """The README's copy-paste workflow and pre-commit config: valid YAML, inputs and outputs
    the Action has, and a reference to msdfix that exists (no release tag is made up)."""
    yaml = pytest.importorskip("yaml")
    readme = (ROOT / "README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)]
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    precommit = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    refs = {r["rev"] for r in precommit["repos"]}
    spec = action()
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses.startswith("OWNER/msdfix@"):
                refs.add(uses.split("@", 1)[1])
                assert set(step.get("with", {})) <= set(spec["inputs"]), step
            for name in re.findall(r"steps\.msdfix\.outputs\.([\w-]+)", json.dumps(step)):
                assert name in spec["outputs"], name
    assert refs == {"main"}, refs
    if run(["git", "rev-parse", "--git-dir"], ROOT).returncode == 0:  # a checkout of msdfix
        found = [run(["git", "rev-parse", "--verify", "--quiet", ref], ROOT).returncode == 0
                 for ref in ("refs/heads/main", "refs/remotes/origin/main")]  # fmt: skip
        assert any(found), "the README names @main, but this repository has no main branch"


def test_action_install_step_then_run(tmp_path: Path) -> None:
    """The whole Action: the install step builds msdfix from the action's path into a venv."""
    repo = git_repo(tmp_path / "repo", {"Dockerfile": PIP, "requirements.txt": "flask\n"})
    # The runner checks the action out into a directory of its own: build from a copy, so that
    # pip's in-tree build leaves this checkout alone.
    action_path = copy_project(tmp_path / "action")
    install = run_step(
        "Install msdfix", repo, _inputs(), Path(sys.executable).parent, tmp_path, action_path
    )
    if install.returncode != 0:
        pytest.skip(f"cannot pip install the project here (offline?): {install.stderr[-300:]}")
    bin_dir = Path((tmp_path / "github_path").read_text().strip())
    assert (bin_dir / "msdfix").exists()
    proc = run_step("Run msdfix", repo, _inputs(), bin_dir, tmp_path)
    assert proc.returncode == 1
    assert "::warning file=Dockerfile,line=4" in proc.stdout


# --- --output-format github ---


def test_github_annotations_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(PIP)
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "go.Dockerfile").write_text(GO_UNSAFE)
    (tmp_path / "main.go").write_text(GO_MAIN)  # the Go build's sources: this is its context
    (tmp_path / "bin.Dockerfile").write_bytes(b"FROM x\n\x00")
    proc = run([*MSDFIX, "--output-format", "github", "-q", "."], tmp_path)
    assert proc.returncode == 2  # the binary file is an error
    lines = proc.stdout.splitlines()
    error = "::error file=bin.Dockerfile,line=2,endLine=2,title=msdfix::"
    assert f"{error}binary file (contains NUL bytes)" in lines
    pip = next(line for line in lines if line.startswith("::warning file=Dockerfile,"))
    assert pip.startswith(
        "::warning file=Dockerfile,line=4,endLine=4,title=msdfix cache-mount::"
        "cache pip downloads in /root/.cache/pip"
    )
    assert (
        "%0A%0Amsdfix rewrites these lines to:%0ARUN --mount=type=cache,target=/root/.cache/pip"
        in pip
    )
    go = next(line for line in lines if line.startswith("::warning file=go.Dockerfile,"))
    assert go.startswith(
        "::warning file=go.Dockerfile,line=4,endLine=4,"
        "title=msdfix cache-mount (unsafe%2C not applied)::cache go downloads"
    )
    assert go.endswith("(use --unsafe-fixes to apply)")
    assert all("\n" not in line and "\r" not in line for line in lines)


def test_github_annotations_name_files_from_the_workspace_root(tmp_path: Path) -> None:
    """Run from a subfolder of the checkout (a monorepo's ``working-directory:``), an annotation
    named ``Dockerfile``, which the runner reads from the repository's root: no such file.
    Relative to $GITHUB_WORKSPACE, as ruff writes them; without it, as displayed."""
    service = tmp_path / "services" / "api"
    service.mkdir(parents=True)
    (service / "Dockerfile").write_text(PIP)
    (service / "requirements.txt").write_text("flask\n")
    argv = [*MSDFIX, "--output-format", "github", "-q", "Dockerfile"]
    env = {**os.environ, "GITHUB_WORKSPACE": str(tmp_path)}
    inside = run(argv, service, env).stdout
    assert "::warning file=services/api/Dockerfile,line=4," in inside, inside
    outside = run(argv, service, {**env, "GITHUB_WORKSPACE": str(tmp_path / "other")}).stdout
    assert "::warning file=Dockerfile,line=4," in outside, outside
    unset = {k: v for k, v in os.environ.items() if k != "GITHUB_WORKSPACE"}
    assert "::warning file=Dockerfile,line=4," in run(argv, service, unset).stdout


def test_github_annotation_of_a_new_dockerignore_shows_its_lines(tmp_path: Path) -> None:
    """A fix that only creates a .dockerignore is shown on the first FROM; its annotation said
    "msdfix rewrites these lines to: FROM ..." (a line it leaves alone)."""
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py /app/\nCMD ["python", "app.py"]\n'
    )
    (tmp_path / "app.py").write_text("")
    (tmp_path / ".env").write_text("S=1\n")
    proc = run([*MSDFIX, "--output-format", "github", "-q", "Dockerfile"], tmp_path)
    line = next(x for x in proc.stdout.splitlines() if "title=msdfix dockerignore::" in x)
    assert "rewrites these lines" not in line
    assert "%0A%0Amsdfix creates .dockerignore:%0A" in line and "%0A**/.env%0A" in line


def test_github_annotations_land_on_original_lines_after_multiple_fixes() -> None:
    report = report_for("n.Dockerfile", NODE_APT)
    assert report.result is not None and len(report.result.applied) >= 2
    out = github_report([report]).splitlines()
    warnings = [line for line in out if line.startswith("::warning")]
    assert len(warnings) == len(report.result.applied)
    count = len(NODE_APT.splitlines())
    summary = "\n".join(summary_lines(report, write=False))
    for fix, line in zip(report.result.applied, warnings, strict=True):
        match = re.match(r"::warning file=n.Dockerfile,line=(\d+),endLine=(\d+),", line)
        assert match
        start, end = int(match.group(1)), int(match.group(2))
        assert 1 <= start <= end <= count
        edited = {NODE_APT.count("\n", 0, e.start) + 1 for e in fix.fix.original_edits or []}
        assert edited & set(range(start, end + 1)), line  # on lines the fix changes
        assert f"line {start}: {fix.transform}" in summary  # the summary names the same line


def test_github_escaping() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github_report([report_for("ok.Dockerfile", CLEAN)]) == ""


# --- --output-format sarif ---


def _schema() -> dict[str, Any]:
    if not SCHEMA.is_file():
        pytest.skip("../shared/data/sarif-schema-2.1.0.json is absent")
    return dict(json.loads(SCHEMA.read_text()))


def validate(log: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_end_to_end_is_valid(tmp_path: Path) -> None:
    for name, text in {
        "Dockerfile": PIP,
        "n.Dockerfile": NODE_APT,
        "go.Dockerfile": GO_UNSAFE,
        "main.go": GO_MAIN,
        "ok.Dockerfile": CLEAN,
        "requirements.txt": "flask\n",
    }.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "bin.Dockerfile").write_bytes(b"\x00")
    proc = run([*MSDFIX, "--output-format", "sarif", "-q", "."], tmp_path)
    assert proc.returncode == 2
    log = json.loads(proc.stdout)
    validate(log)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "msdfix"
    assert [r["id"] for r in driver["rules"]] == [t.id for t in all_transforms()]
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        if result.get("kind") == "informational":  # an explanation: no fix, level none
            assert result["level"] == "none" and "fixes" not in result
            assert result["message"]["text"].startswith("left unchanged: ")
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "binary file (contains NUL bytes)"
    assert (
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bin.Dockerfile"
    )
    # Applying every fix of a file to the ORIGINAL text gives msdfix's rewrite.
    for name, text in {"Dockerfile": PIP, "n.Dockerfile": NODE_APT}.items():
        results = [r for r in run_["results"] if _uri(r) == name and _applied(r)]
        replacements = [
            rep
            for r in results
            for f in r.get("fixes", [])
            for change in f["artifactChanges"]
            for rep in change["replacements"]
        ]
        expected = report_for(name, text, tmp_path).result
        assert expected is not None
        assert apply_replacements(text, replacements) == expected.output
    # The unsafe suggestion of an unchanged file carries its own fix, not applied.
    go = [r for r in run_["results"] if _uri(r) == "go.Dockerfile" and r["ruleId"] == "cache-mount"]
    assert go and go[0]["properties"] == {"applicability": "unsafe", "applied": False}
    unsafe = report_for("go.Dockerfile", GO_UNSAFE, tmp_path, unsafe=True).result
    assert unsafe is not None
    go_reps = [
        rep for f in go[0]["fixes"] for c in f["artifactChanges"] for rep in c["replacements"]
    ]
    assert apply_replacements(GO_UNSAFE, go_reps) == unsafe.output


def _applied(result: dict[str, Any]) -> bool:
    """An applied fix; explanations (``kind`` informational) have no properties."""
    return "kind" not in result and bool(result["properties"]["applied"])


def _uri(result: dict[str, Any]) -> str:
    return str(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])


def test_sarif_crlf_and_odd_paths_stay_valid() -> None:
    crlf = PIP.replace("\n", "\r\n")
    report = report_for("dir with space/Dockerfile", crlf)
    log = sarif_log([report, FileReport("-", error="empty file")])
    validate(log)
    result = log["runs"][0]["results"][0]
    assert _uri(result) == "dir%20with%20space/Dockerfile"
    reps = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert report.result is not None
    assert apply_replacements(crlf, reps) == report.result.output
    output = apply_replacements(crlf, reps)
    assert output.count("\n") == output.count("\r\n") >= crlf.count("\r\n")  # every one CRLF


def test_a_files_warnings_reach_sarif_as_tool_notifications() -> None:
    """A warning (here: a pragma naming no transform, so it suppresses nothing) was only in
    the text summary and the JSON: a run read as SARIF did not show it. Annotations leave it
    to the log, as ruff's do (a clean file built from elsewhere got one in every PR)."""
    text = "# msdfix: ignore[cache-mnt]\n" + PIP
    report = report_for("Dockerfile", text)
    assert report.result is not None and report.result.warnings == [
        (1, "unknown transform id 'cache-mnt' in pragma")
    ]
    log = sarif_log([report])
    assert log["runs"][0]["invocations"][0]["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {"text": "unknown transform id 'cache-mnt' in pragma"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 1, "endLine": 1},
                    }
                }
            ],
        }
    ]
    assert not github_report([report]).startswith("::warning file=Dockerfile,line=1,")
    validate(log)  # last: it skips where the schema is absent


def test_sarif_schema_rejects_bad_logs() -> None:
    """The official schema is strict where SARIF is: it catches the mistakes it should."""
    jsonschema = pytest.importorskip("jsonschema")
    log = sarif_log([report_for("Dockerfile", PIP)])
    schema = _schema()
    bad = json.loads(json.dumps(log))
    bad["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = json.loads(json.dumps(log))
    bad["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = json.loads(json.dumps(log))
    bad["runs"][0]["results"][0]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
