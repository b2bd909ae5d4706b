"""A generator of realistic Dockerfiles, for hypothesis (tests/test_fuzz.py) and bench/fuzz.py.

It writes what people write: several stages, flags, package-manager installs with their cleanup,
continuation lines with comments between them, heredocs, quotes, escaped blanks, variables,
CRLF, lower-case keywords, the backtick escape directive, pragmas. The choices go through a
:class:`Chooser`, so hypothesis can shrink a failure and bench/fuzz.py can draw from a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    """Where the generator's choices come from."""

    def pick(self, options: Sequence[T]) -> T: ...

    def number(self, low: int, high: int) -> int: ...

    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    """Choices from a seeded ``random.Random`` (bench/fuzz.py)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def number(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent


class DrawChooser:
    """Choices from hypothesis's ``draw`` (shrinkable)."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def pick(self, options: Sequence[T]) -> T:
        return self.draw(self.st.sampled_from(options))  # type: ignore[no-any-return]

    def number(self, low: int, high: int) -> int:
        return self.draw(self.st.integers(low, high))  # type: ignore[no-any-return]

    def chance(self, percent: int) -> bool:
        return self.draw(self.st.integers(0, 99)) < percent  # type: ignore[no-any-return]


IMAGES = [
    "debian:12", "debian:bookworm-slim", "ubuntu:22.04", "python:3.12", "python:3.11-slim",
    "python:3.12-alpine", "node:18", "node:20-alpine", "node:20-bookworm-slim", "golang:1.22",
    "golang:1.21-alpine", "alpine:3.19", "rust:1.75", "maven:3-eclipse-temurin-17",
    "eclipse-temurin:17-jdk", "gradle:8-jdk17", "ruby:3.3", "php:8.2-cli", "composer:2",
    "mcr.microsoft.com/dotnet/sdk:8.0", "nginx:1.25", "centos:7", "fedora:39",
    "registry.example.com/team/base:1.0", "node:18@sha256:" + "a" * 64, "${BASE_IMAGE}",
    "python:${PY_VERSION}-slim", "busybox", "scratch",
]  # fmt: skip
PACKAGES = ["curl", "git", "ca-certificates", "build-essential", "libpq-dev", "gcc", "make",
            "openssl", "tzdata", "python3-pip", "nodejs", "vim"]  # fmt: skip
COMMANDS = [
    "apt-get update", "apt-get update -qq", "apt-get install -y {pkgs}",
    "apt-get install -y --no-install-recommends {pkgs}", "apt install -y {pkgs}",
    "DEBIAN_FRONTEND=noninteractive apt-get install -yq {pkgs}", "apt-get clean",
    "apt-get autoremove -y", "rm -rf /var/lib/apt/lists/*", "rm -rf /var/cache/apt/*",
    "apk add --no-cache {pkgs}", "apk add --update {pkgs}", "apk update", "rm -rf /var/cache/apk/*",
    "yum install -y {pkgs}", "yum clean all", "dnf install -y {pkgs}", "dnf clean all",
    "microdnf install {pkgs}", "pip install --no-cache-dir -r requirements.txt",
    "pip install -r requirements.txt", "pip3 install --upgrade pip", "python -m pip install .",
    "pip install --no-cache-dir flask==3.0 gunicorn", "pip install -e .", "uv sync --frozen",
    "poetry install --no-root", "pipenv install --deploy --system", "rm -rf /root/.cache/pip",
    "npm ci", "npm install", "npm ci --omit=dev", "npm install -g pnpm", "npm run build",
    "npm cache clean --force", "yarn install --frozen-lockfile", "yarn build", "yarn cache clean",
    "pnpm install --frozen-lockfile", "go mod download", "go build -o /out/app ./cmd/app",
    "CGO_ENABLED=0 go build -ldflags='-s -w' -o /app .", "go test ./...", "cargo build --release",
    "cargo fetch", "mvn -B package -DskipTests", "mvn dependency:go-offline", "./mvnw package",
    "gradle build --no-daemon", "./gradlew assemble", "bundle install --jobs 4",
    "gem install bundler", "composer install --no-dev", "dotnet restore", "dotnet publish -c Release -o /out",
    "make", "make install", "./configure --prefix=/usr", "cd /app", "cd src", "mkdir -p /app/data",
    "echo hello", 'echo "building $APP_VERSION"', "echo 'a b' > /etc/motd", "chmod +x /entrypoint.sh",
    "useradd -m app", "adduser -D app", "chown -R app:app /app", "ln -s /usr/bin/python3 /usr/bin/python",
    "curl -fsSL https://example.com/install.sh | sh", "wget -q https://example.com/x.tar.gz",
    "tar xzf x.tar.gz -C /opt", "git clone https://example.com/repo.git", "true",
    "export PATH=/opt/bin:$PATH", "test -f package.json", "sed -i 's/a/b/' /etc/conf",
    "for f in a b; do echo $f; done", "if [ -f x ]; then echo y; fi", "(cd /tmp && make)",
    "FOO=bar ./run.sh", "ls -la\\ dir", "touch a\\ b", "echo ${HOME}/.cache", "cat <<< 'x'",
    "printf '%s\\n' a", "rm -rf /tmp/* /var/tmp/*", "find / -name '*.pyc' -delete",
]  # fmt: skip
JOINS = [" && ", " && ", " ; ", " || ", " | "]
WORDS = ["app", "/app", "/src", "/usr/local/bin", ".", "./", "src/", "package.json",
         "package*.json", "requirements.txt", "go.mod", "go.sum", "Cargo.toml", "pom.xml",
         "Gemfile", "yarn.lock", "pyproject.toml", "poetry.lock", "*.csproj", "config.yaml"]  # fmt: skip


class _Writer:
    def __init__(self, c: Chooser, escape: str) -> None:
        self.c, self.escape = c, escape
        self.stages: list[str] = []

    def kw(self, word: str) -> str:
        return word.lower() if self.c.chance(5) else word

    def script(self) -> str:
        """A RUN script: realistic commands joined by operators, continuations, comments."""
        c, esc = self.c, self.escape
        parts = []
        for _ in range(c.number(1, 6)):
            command = c.pick(COMMANDS)
            if "{pkgs}" in command:
                pkgs = " ".join(c.pick(PACKAGES) for _ in range(c.number(1, 4)))
                command = command.replace("{pkgs}", pkgs)
            if c.chance(4):
                command += "\\ "  # an escaped blank at the end of a word
            parts.append(command)
        script = parts[0]
        for part in parts[1:]:
            join = c.pick(JOINS)
            style = c.number(0, 9)
            if style < 4:
                script += join + part
            elif style < 8:
                indent = c.pick(["    ", "  ", "\t", " "])
                script += f" {esc}\n{indent}{join.strip()} {part}"
            elif style == 8:
                script += f"{join.rstrip()} {esc}\n    # {c.pick(['install', 'clean up', ''])}\n    {part}"
            else:
                script += f"{join.rstrip()} {esc}\n\n    {part}"
        return script

    def run(self) -> str:
        c = self.c
        flags = ""
        if c.chance(10):
            flags += c.pick(["--mount=type=cache,target=/root/.cache/pip ",
                             "--mount=type=cache,target=/var/cache/apt,sharing=locked ",
                             "--mount=type=cache,id=npm,target=/root/.npm ",
                             "--mount=type=bind,source=.,target=/src "])  # fmt: skip
        if c.chance(5):
            flags += "--network=host "
        if c.chance(4):
            flags += "--mount=type=secret,id=token "
        form = c.number(0, 19)
        command = c.pick(COMMANDS).replace("{pkgs}", c.pick(PACKAGES))
        if form == 0:
            command = command.replace("\\", "\\\\").replace('"', '\\"')
            return f'{self.kw("RUN")} {flags}["/bin/sh", "-c", "{command}"]'
        if form == 1:
            tool = c.pick(["npm", "pip", "go"])
            return f'{self.kw("RUN")} {flags}["{tool}", "install"]'
        if form == 2:
            name = c.pick(["EOF", "EOT", "SCRIPT"])
            body = "\n".join(self.script() for _ in range(c.number(1, 3)))
            shebang = "#!/bin/sh\nset -e\n" if c.chance(30) else ""
            dash, quote = ("-", "") if c.chance(20) else ("", c.pick(["", "'", '"']))
            return f"{self.kw('RUN')} {flags}<<{dash}{quote}{name}{quote}\n{shebang}{body}\n{name}"
        return f"{self.kw('RUN')} {flags}{self.script()}"

    def copy(self) -> str:
        c = self.c
        keyword = self.kw(c.pick(["COPY", "COPY", "COPY", "ADD"]))
        flags = ""
        if self.stages and keyword.upper() == "COPY" and c.chance(25):
            flags += f"--from={c.pick(self.stages)} "
        if c.chance(15):
            flags += f"--chown={c.pick(['app', '1000:1000', 'node:node', '${UID}'])} "
        if c.chance(8):
            flags += "--link "
        if c.chance(6):
            return f"{keyword} {flags}<<EOF /etc/app.conf\nkey=value\nEOF"
        sources = " ".join(c.pick(WORDS) for _ in range(c.number(1, 3)))
        if c.chance(8):
            return f'{keyword} {flags}["{sources.split()[0]}", "/app/"]'
        return f"{keyword} {flags}{sources} {c.pick(['.', './', '/app/', '/app', '/usr/src/app/'])}"

    def instruction(self) -> str:
        c = self.c
        if c.chance(1):  # BuildKit's parser takes these; `docker build` refuses most of them
            return self.kw(c.pick(["WORKDIR", "USER", "RUN", "CMD", "ENTRYPOINT", "EXPOSE",
                                   "ENV", "COPY", "ONBUILD", "HEALTHCHECK", "SHELL", "LABEL"]))  # fmt: skip
        kind = c.number(0, 29)
        if kind < 10:
            return self.run()
        if kind < 15:
            return self.copy()
        if kind == 15:
            return f"{self.kw('WORKDIR')} {c.pick(['/app', '/usr/src/app', '/src', '$HOME/app'])}"
        if kind == 16:
            value = c.pick(["1", "production", '"a b"', "'x y'", "/opt/cache", "$HOME/.cache",
                            "/tmp/a\\ b", "${PATH}:/opt/bin", "/tmp/a,b", "/cache", "off",
                            "/home/app/.npm", "$GOPATH/pkg"])  # fmt: skip
            name = c.pick(["NODE_ENV", "PIP_CACHE_DIR", "GOPATH", "HOME", "PATH", "APP_VERSION",
                           "PIP_NO_CACHE_DIR", "CARGO_HOME", "npm_config_cache", "GOFLAGS"])  # fmt: skip
            return f"{self.kw('ENV')} {name}={value}" if c.chance(80) else f"ENV {name} {value}"
        if kind == 17:
            return (
                f"{self.kw('ARG')} {c.pick(['VERSION', 'VERSION=1.0', 'UID=1000', 'TARGETARCH'])}"
            )
        if kind == 18:
            return f"{self.kw('USER')} {c.pick(['root', '1000', 'app', 'node', '1000:1000', 'nobody'])}"
        if kind == 19:
            return f"{self.kw('EXPOSE')} {c.pick(['80', '8080', '3000/tcp', '53/udp 53/tcp'])}"
        if kind == 20:
            exec_form = c.chance(70)
            keyword = self.kw(c.pick(["CMD", "ENTRYPOINT"]))
            if exec_form:
                program = c.pick(["node", "python", "/app", "./server"])
                argument = c.pick(["index.js", "app.py", "--port=80"])
                return f'{keyword} ["{program}", "{argument}"]'
            return f"{keyword} {c.pick(['npm start', 'python app.py', 'exec /app $ARGS'])}"
        if kind == 21:
            return f'{self.kw("LABEL")} org.opencontainers.image.source="https://example.com" version=1'
        if kind == 22:
            return (
                f"{self.kw('HEALTHCHECK')} --interval=30s CMD curl -f http://localhost/ || exit 1"
            )
        if kind == 23:
            volume = c.pick(["/data", '["/var/lib/data"]'])
            return f"{self.kw('VOLUME')} {volume}"
        if kind == 24:
            if self.escape == "`" and c.chance(50):
                return 'SHELL ["powershell", "-Command"]'
            return 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'
        if kind == 25:
            return f"{self.kw('ONBUILD')} {c.pick(['RUN npm ci', 'COPY . /app'])}"
        if kind == 26:
            return "# " + c.pick(["install dependencies", "msdfix: ignore", "TODO",
                                  "msdfix: ignore[cache-mount] vendored",
                                  "msdfix: ignore[no-such-id]"])  # fmt: skip
        if kind == 27:
            return ""
        if kind == 28:
            return f"{self.kw('STOPSIGNAL')} SIGTERM"
        return f"{self.kw('ENV')} DEBIAN_FRONTEND=noninteractive"

    def stage(self, index: int) -> list[str]:
        c = self.c
        image = c.pick(IMAGES) if not self.stages or c.chance(70) else c.pick(self.stages)
        platform = "--platform=$BUILDPLATFORM " if c.chance(8) else ""
        name = f"stage{index}" if c.chance(50) else ""
        line = f"{self.kw('FROM')} {platform}{image}" + (f" {self.kw('AS')} {name}" if name else "")
        lines = [line]
        lines += [self.instruction() for _ in range(c.number(1, 9))]
        if name:
            self.stages.append(name)
        return lines


def dockerfile(c: Chooser) -> str:
    """One generated Dockerfile."""
    head = []
    if c.chance(4):
        head.append("# syntax=docker/dockerfile:1")
    escape = "`" if c.chance(4) else "\\"
    if escape == "`":
        head.append("# escape=`")
    writer = _Writer(c, escape)
    if c.chance(20):
        head.append(f"ARG {c.pick(['BASE_IMAGE=debian:12', 'PY_VERSION=3.12', 'VERSION'])}")
    lines = head[:]
    if c.chance(1):
        lines.append(c.pick(["MAINTAINER me@example.com", "RUN echo too early", "ARG ONLY=1"]))
    for index in range(0 if c.chance(1) else c.number(1, 3)):  # sometimes no FROM at all
        lines += writer.stage(index)
    text = "\n".join(lines)
    if escape == "`":
        text = text.replace(" \\\n", " `\n")
    if c.chance(10):
        text = "\n".join(line + c.pick([" ", "\t", "  "]) for line in text.split("\n"))
    text += "" if c.chance(5) else "\n"
    if c.chance(15):
        text = text.replace("\n", "\r\n")
    if c.chance(2):
        text = "\ufeff" + text
    return text
