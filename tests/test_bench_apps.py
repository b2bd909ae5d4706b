"""bench/apps: every app has an expert Dockerfile and a smoke check; msdfix's rewrites are sound.

The real builds are bench/run_suite.py's job (README table); these checks are static, so they also
cover the apps that cannot be built offline (python-alpine-native: alpine's apk CDN).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext

APPS = Path(__file__).resolve().parent.parent / "bench" / "apps"
NAMES = sorted(p.name for p in APPS.iterdir() if (p / "Dockerfile").is_file())


def _stages(text: str) -> list[str]:
    return re.split(r"(?im)^(?=FROM\s)", text)[1:]


@pytest.mark.parametrize("name", NAMES)
def test_app_is_complete(name):
    app = APPS / name
    assert (app / "expert.Dockerfile").is_file(), f"{name}: no expert.Dockerfile"
    assert (app / "smoke.txt").read_text().split()[0] in ("http", "cmd")


@pytest.mark.parametrize("name", NAMES)
def test_no_global_yarn_install_on_node_images(name):
    """The node images ship yarn 1, so ``npm install -g yarn`` fails there (EEXIST): the
    yarn-api expert did, and run_suite measured no expert for it (2026-12-06)."""
    for file in ("Dockerfile", "expert.Dockerfile"):
        text = (APPS / name / file).read_text()
        if re.search(r"(?im)^FROM\s+(--\S+\s+)*node:", text):
            assert not re.search(r"(?im)^RUN\b.*npm (install|i) (-g|--global) yarn\b", text), (
                f"{name}/{file}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_rewrite_splits_soundly(name):
    app = APPS / name
    text = (app / "Dockerfile").read_text()
    out = rewrite(text, str(app / "Dockerfile"), BuildContext(app), Settings()).output
    runtime = _stages(out)[-1]
    assert not re.search(r"(?m)^COPY --from=\S+ / /", runtime), name
    if re.match(r"FROM \S*alpine", runtime):
        assert "apt-get" not in runtime, f"{name}: apt-get on an alpine runtime"
    for line in runtime.splitlines():
        if line.startswith("RUN chmod"):
            path = line.split()[-1]
            copies = [ln for ln in runtime.splitlines() if ln.startswith("COPY")]
            before = runtime[: runtime.index(line)]
            assert any(c.split()[-1] in path for c in copies if c in before), (name, line)


def test_alpine_python_gets_apk_runtime_libraries():
    app = APPS / "python-alpine-native"
    out = rewrite((app / "Dockerfile").read_text(), None, BuildContext(app), Settings()).output
    runtime = _stages(out)[-1]
    assert runtime.startswith("FROM python:3.12-alpine AS runtime")
    apk = re.search(r"apk add (?:--no-cache|--update-cache) (.*)", runtime)
    assert apk is not None and {"libgcc", "libpq", "libxml2", "libxslt"} <= set(apk[1].split())
    assert " gcc" not in runtime and "-dev" not in runtime


def test_deleted_node_modules_do_not_come_back():
    app = APPS / "node-bundle-rmmodules"
    out = rewrite((app / "Dockerfile").read_text(), None, BuildContext(app), Settings()).output
    assert "prune" not in out and "prod-deps" not in out and "node_modules" not in _stages(out)[-1]
