"""slim-base: build RUNs that start a program a package manager installed."""

from __future__ import annotations

import posixpath
import re
import sys

from msdfix.ecosystems.programs import INERT, SHELLS, WRAPPERS
from msdfix.ecosystems.registry import MANAGER_PROGRAMS
from msdfix.model.context import BuildContext
from msdfix.shell.entry import opaque_program
from msdfix.transforms.slim_base.facts import Facts, Use

# User switches and init wrappers run the command given to them (read on its own).
_KNOWN = INERT | SHELLS | WRAPPERS | {"su", "runuser", "gosu", "su-exec", "setpriv", "xargs"}
_PIP = re.compile(r"^pip[0-9.]*$")


def installed_program(facts: Facts, ctx: BuildContext, full_only: frozenset[str]) -> Use | None:
    """The first RUN command whose program is neither a shell tool, a package manager, the
    project's own file or module nor a tool of the full image (checked on its own): a program
    pip (or another manager) installed, such as ``mypyc`` (runs gcc), ``pyinstaller``
    (binutils), ``pre-commit`` or ``python -m setuptools_scm`` (git). Its code is not read."""
    for use in facts.uses:
        name = posixpath.basename(use.program)
        if use.ins.cmd != "run" or not name or "$" in use.program or name in _KNOWN:
            continue
        if name in MANAGER_PROGRAMS or _PIP.match(name) or name in full_only:
            continue
        module = name.split(".")[0]
        if module in sys.stdlib_module_names or (
            ctx.present
            and (ctx.named(f"{name.replace('.', '/')}.py") or ctx.glob(f"*{module}/__init__.py"))
        ):
            continue  # python -m venv, python -m app.prepare: the stdlib or the app's own
        if opaque_program([[use.program, *use.args]], ctx) is not None:
            return use
    return None
