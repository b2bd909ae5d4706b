"""Compose services that run other commands in the split's image than its CMD/ENTRYPOINT."""

from __future__ import annotations

from msdfix.model import BuildContext
from msdfix.model.platforms import image_runs


def compose_override(ctx: BuildContext) -> str | None:
    """Why the split's runtime may not run what a compose service built from this Dockerfile
    runs in it: its own ``command:`` or ``entrypoint:`` (``go test ./...``, ``npm run dev``)
    or its ``healthcheck`` ``test`` (``curl -f ...``: node:18-slim has no curl, so the
    service turned unhealthy), and a deploy platform's release step or process
    (fly.toml's ``release_command = "npm run migrate"`` ran ``ts-node``, a dev dependency the
    prod-deps runtime lacked). None when there is none."""
    run = next(iter(image_runs(ctx)), None)
    if run is None:
        return None
    if not run.compose:
        return (
            f"{run.path} runs its {run.key} ({run.text[:60]}) in this image: the runtime "
            "stage may lack what that runs"
        )
    return (
        f"{run.path} gives service {run.service}, built from this Dockerfile, its own "
        f"{run.key} ({run.text[:60]}): the runtime stage may lack what that runs"
    )
