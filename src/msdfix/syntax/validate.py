"""The checks BuildKit makes after parsing, before it builds anything.

BuildKit's parser (``frontend/dockerfile/parser``) accepts ``WORKDIR`` without a path or a
file without ``FROM``; its next step (``frontend/dockerfile/instructions/parse.go`` and
``dockerfile2llb``) rejects them. Every rule here is one of those checks, with its message, so
that msdfix refuses (exit 2, ``file:line``) exactly what ``docker build`` refuses up front.
Unknown flags are not checked: frontends named by ``# syntax=`` may add their own.
"""

from __future__ import annotations

import re

from msdfix.syntax.nodes import Dockerfile, Instruction
from msdfix.syntax.parser import ParseError
from msdfix.syntax.values import instruction_values

EXACTLY_ONE = frozenset({"maintainer", "workdir", "user", "stopsignal"})
AT_LEAST_ONE = frozenset({"env", "label", "onbuild", "healthcheck", "expose", "volume", "arg"})
STAGE_NAME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*$")
NOT_ONBUILD = frozenset({"ONBUILD", "FROM", "MAINTAINER"})


def validate(dockerfile: Dockerfile) -> None:
    """Raise :class:`ParseError` (with the line) where BuildKit would refuse to build."""
    seen_from = False
    for ins in dockerfile.instructions:
        _check_instruction(ins)
        if ins.cmd == "from":
            seen_from = True
        elif not seen_from and ins.cmd != "arg":
            raise ParseError(
                f"no build stage in current context: {ins.keyword.upper()} before the first FROM "
                "(only ARG may come before FROM)",
                ins.start_line,
            )
    if not seen_from:
        first = dockerfile.instructions[0].start_line if dockerfile.instructions else 1
        raise ParseError("dockerfile contains no stages to build (no FROM instruction)", first)


def _check_instruction(ins: Instruction) -> None:
    sub, values, is_json = instruction_values(ins)
    name = ins.keyword.upper()
    problem = None
    if ins.cmd in EXACTLY_ONE and len(values) != 1:
        problem = f"{name} requires exactly one argument"
    elif ins.cmd in AT_LEAST_ONE and not values and sub is None:
        problem = f"{name} requires at least one argument"
    elif ins.cmd in ("copy", "add") and len(values) < 2:
        problem = (
            f"{name} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    elif ins.cmd in ("env", "label") and any(not key for key in values[::2]):
        problem = f"{name} names can not be blank"
    elif ins.cmd == "arg" and any(v.startswith("=") for v in values):
        problem = "ARG names can not be blank"
    elif ins.cmd == "from":
        problem = _from_problem(values)
    elif ins.cmd == "onbuild" and sub in NOT_ONBUILD:
        problem = f"{sub} isn't allowed as an ONBUILD trigger"
    elif ins.cmd == "healthcheck":
        problem = _healthcheck_problem(values)
    elif ins.cmd == "volume" and any(not v.strip() for v in values):
        problem = "VOLUME specified can not be an empty string"
    elif ins.cmd == "shell" and (not values or not is_json):
        problem = 'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]'
    if problem:
        raise ParseError(problem, ins.start_line)


def _from_problem(values: list[str]) -> str | None:
    if len(values) == 3 and values[1].lower() == "as":
        if not STAGE_NAME_RE.match(values[2].lower()):
            return (
                f"invalid name for build stage: {values[2]!r}, "
                "name can't start with a number or contain symbols"
            )
        return None
    if len(values) != 1:
        return "FROM requires either one or three arguments (IMAGE [AS NAME])"
    return None


def _healthcheck_problem(values: list[str]) -> str | None:
    if not values:
        return "HEALTHCHECK requires at least one argument"
    kind = values[0].upper()
    if kind == "NONE":
        return "HEALTHCHECK NONE takes no arguments" if len(values) > 1 else None
    if kind != "CMD":
        return f"unknown type {values[0]!r} in HEALTHCHECK (try CMD)"
    if len(values) < 2 or (len(values) == 2 and not values[1]):
        return "Missing command after HEALTHCHECK CMD"
    return None
