"""Compose services that run other commands in the split's image than its CMD/ENTRYPOINT."""

from __future__ import annotations

import json
import shlex

from msdfix.model import BuildContext
from msdfix.model.compose import UNKNOWN, ComposeRun
from msdfix.model.platforms import image_runs
from msdfix.shell.entry import Entry


def _is_start(run: ComposeRun, cmd: Entry | None, shell: bool) -> bool:
    """The run replaces the image's CMD with the same command, word for word (a Procfile's
    ``web: node server.js`` or a service's ``command: ["node", "server.js"]`` beside
    ``CMD ["node", "server.js"]``): the runtime is made to run that. A deploy platform may
    run it through ``/bin/sh -c`` (Heroku's images must have one), so a runtime without a
    shell does not."""
    if cmd is None or run.key in ("healthcheck", "entrypoint") or not (run.compose or shell):
        return False
    try:
        words = json.loads(run.text) if run.text.startswith("[") else shlex.split(run.text)
    except ValueError:  # a YAML list JSON does not read, an unclosed quote: not known
        return False
    return bool(words) and (words == cmd.argv or [words] == cmd.commands)


def compose_override(ctx: BuildContext, cmd: Entry | None, shell: bool) -> str | None:
    """Why the split's runtime may not run what a compose service built from this Dockerfile
    runs in it: its own ``command:`` or ``entrypoint:`` (``go test ./...``, ``npm run dev``)
    or its ``healthcheck`` ``test`` (``curl -f ...``: node:18-slim has no curl, so the
    service turned unhealthy), and a deploy platform's release step or process
    (fly.toml's ``release_command = "npm run migrate"`` ran ``ts-node``, a dev dependency the
    prod-deps runtime lacked). A run that is the image's own CMD again is none (``cmd``:
    what the CMD runs, None when an ENTRYPOINT of the stage takes it as arguments; ``shell``:
    the runtime has ``/bin/sh``). None when there is none."""
    run = next((r for r in image_runs(ctx) if not _is_start(r, cmd, shell)), None)
    if run is None:
        return None
    if not run.compose and run.key == UNKNOWN:  # a platform file msdfix cannot read
        return (
            f"{run.path} may run {run.runs} in this image: the runtime stage may lack what "
            "that runs"
        )
    if not run.compose:
        return (
            f"{run.path} runs its {run.key} ({run.text[:60]}) in this image: the runtime "
            "stage may lack what that runs"
        )
    if run.key == UNKNOWN:
        return (
            f"{run.said()} may build this Dockerfile and run {run.runs} in its image: the "
            "runtime stage may lack what that runs"
        )
    return (
        f"{run.path} gives service {run.service}, built from this Dockerfile, its own "
        f"{run.key} ({run.text[:60]}): the runtime stage may lack what that runs"
    )
