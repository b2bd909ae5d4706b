"""OS packages a runtime stage installs again."""

from __future__ import annotations

from msdfix.knowledge import ecosystems as eco
from msdfix.model.build_stage import (
    Analysis,
    Decline,
)


def runtime_packages(a: Analysis, packages: list[str]) -> list[str]:
    """OS packages the runtime needs: non-build packages, and -dev packages mapped to libraries."""
    wanted: list[str] = []
    uses = " ".join(" ".join(c) for c in (a.entry.commands if a.entry else []))
    health = " ".join(i.args for i in a.stage.of("healthcheck"))
    for name in packages:
        if name in ("curl", "wget") and (name in health or name in uses):
            wanted.append(name)
        elif name in eco.DEV_TO_RUNTIME:
            wanted += eco.DEV_TO_RUNTIME[name]
        elif name.endswith(("-dev", "-devel")):
            raise Decline(f"no runtime library known for {name}")
        elif name not in eco.BUILD_ONLY_PACKAGES:
            wanted.append(name)
    return list(dict.fromkeys(wanted))
