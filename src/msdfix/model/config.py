"""The final image's observable configuration as the Dockerfile declares it."""

from __future__ import annotations

from typing import Any

from msdfix.model.stages import Model
from msdfix.syntax import Instruction
from msdfix.syntax.values import env_pairs, instruction_values, unquote

LAST_WINS = {"entrypoint", "cmd", "user", "healthcheck", "stopsignal", "shell"}


def _value(ins: Instruction) -> tuple[bool, tuple[str, ...]]:
    _, values, is_json = instruction_values(ins)
    if not is_json:
        values = [" ".join(v.split()) for v in values]
    return is_json, tuple(values)


def final_config(model: Model) -> dict[str, Any]:
    """ENTRYPOINT/CMD/USER/WORKDIR/ENV/EXPOSE/LABEL/HEALTHCHECK/STOPSIGNAL/SHELL of the last stage."""
    config: dict[str, Any] = {"env": {}, "label": {}, "expose": set(), "workdir": "/"}
    stage = model.final
    if stage is None:
        return config
    config["workdir"] = model.workdirs(stage)[1]
    for st in stage.lineage:
        for ins in st.instructions:
            cmd = ins.cmd
            if cmd in LAST_WINS:
                if cmd not in ("entrypoint", "cmd"):
                    config[cmd] = _value(ins)
            elif cmd in ("env", "label"):
                for key, value in env_pairs(ins):
                    config[cmd][unquote(key)] = unquote(value, ins.escape)
            elif cmd == "expose":
                config["expose"].update(instruction_values(ins)[1])
    for found in stage.entry():
        if found is not None and (found.cmd == "cmd" or _value(found) != (True, ())):
            config[found.cmd] = _value(found)  # ENTRYPOINT [] declares none
    return config
