"""Frontend builds: the Node a frontend stage needs, the static server serving its output."""

from __future__ import annotations

import re

from msdfix.ecosystems.go import golang_release
from msdfix.ecosystems.os import alpine_version, debian_codename

# Programs of a JavaScript frontend build run inside another ecosystem's stage.
FRONTEND_TOOLS = frozenset({"npm", "npx", "yarn", "yarnpkg", "pnpm", "corepack"})
# OS packages that only provide the frontend toolchain (not needed once it has its own stage).
FRONTEND_PACKAGES = frozenset({"nodejs", "npm", "yarn", "yarnpkg", "node-gyp"})
# Major version of the distribution's ``nodejs`` package.
DEBIAN_NODEJS = {"buster": "10", "bullseye": "12", "bookworm": "18", "trixie": "20"}
ALPINE_NODEJS = {"3.16": "16", "3.17": "18", "3.18": "18", "3.19": "20", "3.20": "20", "3.21": "22"}
DEFAULT_NODE_MAJOR = "18"

# Packages whose programs the node images ship outside npm's global folder: docker-node
# installs yarn 1 in /opt with links /usr/local/bin/yarn and yarnpkg, so `npm install -g yarn`
# there stops with EEXIST (built for real on node:18-slim).
NODE_IMAGE_PACKAGES = frozenset({"yarn"})

NGINX_RUNTIME = "nginx:1.25-alpine"
NGINX_HTML = "/usr/share/nginx/html"
NGINX_PORT = "80"


def frontend_node(tag: str | None, ecosystem: str) -> tuple[str, str | None]:
    """(node image with the Node major the stage's OS packages install, where it comes from).

    The second item names the distribution release whose ``nodejs`` package has that major
    (``Debian bookworm``); None when the release is unknown and the default major is a guess.
    """
    alpine = alpine_version(tag)
    if alpine is not None:
        major = ALPINE_NODEJS.get(alpine)
        exact = bool(major) and re.search(r"alpine3\.\d+", tag or "") is not None
        return f"node:{major or DEFAULT_NODE_MAJOR}-alpine", f"Alpine {alpine}" if exact else None
    release = golang_release(tag) if ecosystem == "go" else debian_codename(tag)
    major = DEBIAN_NODEJS.get(release or "")
    return f"node:{major or DEFAULT_NODE_MAJOR}-slim", f"Debian {release}" if major else None
