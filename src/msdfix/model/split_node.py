"""split-stages for Node: the app directory on the slim image, production dependencies."""

from __future__ import annotations

import posixpath
import re

from msdfix.knowledge import ecosystems as eco
from msdfix.model.build_stage import (
    ROOT,
    Analysis,
    Decline,
    NotABuild,
    Plan,
    context_paths,
    dedupe,
    final_user,
    keyword,
)


def plan_node(a: Analysis) -> Plan:
    installs = [
        c
        for c in a.calls
        if c.program in ("npm", "yarn", "pnpm") and c.sub in ("ci", "install", "i", "")
    ]
    if not installs:
        raise NotABuild
    tag = a.stage.image.tag
    runtime_tag = eco.slim_variant("node", tag)
    if runtime_tag is None:
        raise Decline(f"no slim variant known for {a.stage.image.raw}")
    built = any(c.sub == "run" or c.program == "yarn" and c.sub == "build" for c in a.calls)
    if runtime_tag == tag and not built:
        raise NotABuild
    app = installs[0].cwd
    files = context_paths(a, None)
    plan = Plan(
        f"{a.stage.image.full_name}:{runtime_tag}", dedupe([app, *files.paths]), same_family=True
    )
    if any(
        c.program == "npm"
        and ("-g" in c.args or "--global" in c.args)
        or c.program == "yarn"
        and c.sub == "global"
        for c in a.calls
    ):
        plan.copies = dedupe(plan.copies + ["/usr/local/lib/node_modules", "/usr/local/bin"])
    manager = installs[0].program
    reason = _prune_blocker(a, manager)
    if reason is None:
        major = re.match(r"\d+", tag or "")
        flag = "--omit=dev" if major is None or int(major.group(0)) >= 16 else "--production"
        if app != a.final_dir:
            plan.prune.append(f"{keyword(a.doc, 'WORKDIR')} {app}")
        if final_user(a) not in ROOT:
            plan.prune.append(f"{keyword(a.doc, 'USER')} root")
        plan.prune.append(f"{keyword(a.doc, 'RUN')} npm prune {flag}")
        plan.notes.append("dev dependencies pruned")
    else:
        plan.notes.append(f"dev dependencies kept ({reason})")
    return plan


def _prune_blocker(a: Analysis, manager: str) -> str | None:
    if manager != "npm":
        return f"{manager} prune is not offered"
    if not a.ctx.present:
        return "no build context to check package.json"
    if not (a.ctx.exists("package-lock.json") or a.ctx.exists("npm-shrinkwrap.json")):
        return "no package-lock.json"
    package = a.ctx.read_json("package.json")
    if not isinstance(package, dict):
        return "package.json unreadable"
    dev = set(package.get("devDependencies") or {})
    scripts = package.get("scripts") or {}
    for argv in a.entry.commands if a.entry else []:
        words = list(argv)
        if words and words[0] in ("npm", "yarn", "pnpm"):
            name = (
                "start"
                if words[1:2] == ["start"]
                else (words[2] if len(words) > 2 and words[1] == "run" else None)
            )
            words = str(scripts.get(name, "")).split() if name else []
        elif words and words[0] == "npx":
            words = words[1:]
        for word in words:
            if word in dev or posixpath.basename(word) in dev:
                return f"the start command uses dev dependency {word}"
    return None
