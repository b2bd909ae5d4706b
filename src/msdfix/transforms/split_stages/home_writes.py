"""split-stages (Node): dependencies whose install script writes outside node_modules.

npm, yarn and pnpm run the install scripts of the dependencies, and some keep what they
download in the installing user's home, not in node_modules: puppeteer (19 and later) puts
Chrome in ``~/.cache/puppeteer``, Cypress its binary in ``~/.cache/Cypress``, playwright's
browser packages theirs in ``~/.cache/ms-playwright``. A split's runtime gets node_modules and
the app, not that home, so the app fails when it starts the browser (built for real with a
path dependency whose postinstall wrote ``~/.cache/fetcher``: "Could not find tool at
/root/.cache/fetcher/bin/tool" on the runtime, "tool-ok" on the original).
"""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.node.dependencies import NodeDependencies
from msdfix.ecosystems.node.local_packages import is_local_spec
from msdfix.model import BuildContext

# Packages whose install script downloads into the installing user's ~/.cache.
HOME_INSTALLS = frozenset(
    "puppeteer cypress playwright playwright-chromium playwright-firefox playwright-webkit".split()
)
_HOOKS = ("preinstall", "install", "postinstall")


def home_writer(context: BuildContext, rel: str, deps: NodeDependencies) -> str | None:
    """Why a production dependency may install files outside node_modules: a package known to
    download into the home, or a path dependency with an install script of its own (msdfix
    does not read what the script writes); None when neither."""
    production = set(deps.production) | set(deps.hoisted or ())
    known = sorted(HOME_INSTALLS & production)
    if known:
        return (
            f"{known[0]}'s install script downloads into the installing user's ~/.cache, "
            "which the runtime does not get"
        )
    package = context.read_json(posixpath.join(rel, "package.json"))
    table = package.get("dependencies") if isinstance(package, dict) else None
    for name, spec in sorted(table.items()) if isinstance(table, dict) else []:
        if not isinstance(spec, str) or not is_local_spec(spec) or "://" in spec:
            continue
        path = spec.split(":", 1)[1] if ":" in spec[:9] else spec
        local = context.read_json(posixpath.join(rel, path, "package.json"))
        scripts = local.get("scripts") if isinstance(local, dict) else None
        hook = next((h for h in _HOOKS if isinstance(scripts, dict) and h in scripts), None)
        if hook is not None:
            return (
                f"{name} ({spec}) runs a {hook} script, which may write outside node_modules "
                "(a download into ~/.cache), where the runtime does not look"
            )
    return None
