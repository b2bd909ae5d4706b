"""Dependency manifests per ecosystem: what an install step reads, writes and how to prefetch.

Data, not code. For each ecosystem: the package managers (ids from
:mod:`msdfix.ecosystems.package_managers`) whose install commands read it, the manifest and lock
files that make up its inputs (paths relative to the project directory; a trailing ``/`` marks a
directory; ``**/`` a pattern searched in subdirectories), the COPY sources to use when there is
no build context (globs, which BuildKit allows to match nothing), the directories the install
writes into the project directory (they must be excluded by ``.dockerignore``, or the full COPY
after the install would overwrite them), and the offline-fetch command added before a build
step when the Dockerfile has no separate install step. Sources: the tools' documentation
(npm-ci, yarn install, pnpm install, pip requirements files, Poetry, uv, Pipenv, ``go mod
download``, ``mvn dependency:go-offline``, Gradle wrapper, ``cargo fetch``, Bundler, Composer,
``dotnet restore``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ecosystem:
    """The inputs and outputs of one ecosystem's dependency install."""

    id: str
    managers: tuple[str, ...]
    manifests: tuple[str, ...]
    guess: tuple[str, ...] = ()  # COPY sources without build context (empty: needs the context)
    outputs: tuple[str, ...] = ()  # directories the install creates in the project directory
    fetch: str | None = None  # offline-fetch command; ``{prog}`` is the build's own program word
    build_subcommands: tuple[str, ...] = ()  # build commands that a fetch can precede


NPM = Ecosystem(
    "npm",
    ("npm",),
    ("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"),
    guess=("package*.json", ".npmrc*"),
    outputs=("node_modules",),
)
YARN = Ecosystem(
    "yarn",
    ("yarn", "yarn-berry"),
    ("package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", ".yarn/"),
    guess=("package.json", "yarn.lock*", ".yarnrc*", ".npmrc*"),
    outputs=("node_modules", ".pnp.cjs", ".pnp.loader.mjs"),
)
PNPM = Ecosystem(
    "pnpm",
    ("pnpm",),
    ("package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".pnpmfile.cjs"),
    guess=("package.json", "pnpm-lock.yaml*", ".npmrc*"),
    outputs=("node_modules",),
)
PIP = Ecosystem("pip", ("pip", "uv"), ())  # the requirements files named with -r/-c
POETRY = Ecosystem(
    "poetry",
    ("poetry",),
    ("pyproject.toml", "poetry.lock", "poetry.toml"),
    guess=("pyproject.toml", "poetry.lock*", "poetry.toml*"),
    outputs=(".venv",),
)
UV = Ecosystem(
    "uv",
    ("uv",),
    ("pyproject.toml", "uv.lock", "uv.toml", ".python-version"),
    guess=("pyproject.toml", "uv.lock*", ".python-version*"),
    outputs=(".venv",),
)
PIPENV = Ecosystem(
    "pipenv",
    ("pipenv",),
    ("Pipfile", "Pipfile.lock"),
    guess=("Pipfile", "Pipfile.lock*"),
    outputs=(".venv",),
)
GO = Ecosystem(
    "go",
    ("go",),
    ("go.mod", "go.sum"),
    guess=("go.mod", "go.sum*"),
    fetch="go mod download",
    build_subcommands=("build", "install", "test", "vet"),
)
MAVEN = Ecosystem(
    "maven",
    ("maven",),
    ("pom.xml", ".mvn/", "mvnw"),
    fetch="{prog} -B dependency:go-offline",
    build_subcommands=("package", "install", "verify", "compile", "test"),
)
GRADLE = Ecosystem(
    "gradle",
    ("gradle",),
    (
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
        "gradle.properties",
        "gradle/",
        "gradlew",
        "buildSrc/",
    ),
    fetch="{prog} dependencies --no-daemon",
    build_subcommands=(
        "build",
        "assemble",
        "bootJar",
        "jar",
        "shadowJar",
        "installDist",
        "war",
        "bootWar",
    ),
)
CARGO = Ecosystem(
    "cargo",
    ("cargo",),
    ("Cargo.toml", "Cargo.lock", ".cargo/", "rust-toolchain", "rust-toolchain.toml"),
    fetch="mkdir -p src && touch src/main.rs && cargo fetch && rm -rf src",
    build_subcommands=("build", "install", "test"),
)
BUNDLER = Ecosystem(
    "bundler",
    ("bundler",),
    ("Gemfile", "Gemfile.lock", ".bundle/"),
    guess=("Gemfile", "Gemfile.lock*"),
    outputs=("vendor/bundle",),
)
COMPOSER = Ecosystem(
    "composer",
    ("composer",),
    ("composer.json", "composer.lock", "auth.json"),
    guess=("composer.json", "composer.lock*"),
    outputs=("vendor",),
)
DOTNET = Ecosystem(
    "dotnet",
    ("nuget",),
    (
        "*.sln",
        "**/*.csproj",
        "**/*.fsproj",
        "**/*.vbproj",
        "nuget.config",
        "NuGet.Config",
        "Directory.Build.props",
        "Directory.Packages.props",
        "global.json",
    ),
    outputs=("obj",),
)

ECOSYSTEMS: tuple[Ecosystem, ...] = (
    NPM,
    YARN,
    PNPM,
    PIP,
    POETRY,
    UV,
    PIPENV,
    GO,
    MAVEN,
    GRADLE,
    CARGO,
    BUNDLER,
    COMPOSER,
    DOTNET,
)

# Dependency-install subcommands (the first non-option argument) per package-manager id.
INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "npm": ("ci", "install", "i", "install-clean", "ic"),
    "yarn": ("", "install"),
    "yarn-berry": ("", "install"),
    "pnpm": ("install", "i", "fetch"),
    "pip": ("install",),
    "poetry": ("install", "sync"),
    "pipenv": ("install", "sync"),
    "go": ("mod",),
    "bundler": ("install",),
    "composer": ("install",),
    "nuget": ("restore",),
}

# npm lifecycle scripts that run on a plain ``npm install`` / ``npm ci`` of the project.
NPM_LIFECYCLE = (
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "prepublish",
    "preprepare",
    "postprepare",
)

# Composer scripts that ``install --no-scripts`` skips and ``dump-autoload`` does not run.
COMPOSER_INSTALL_SCRIPTS = (
    "pre-install-cmd",
    "post-install-cmd",
    "pre-update-cmd",
    "post-update-cmd",
)

# ``composer install`` flags that belong to the autoloader, and their ``dump-autoload`` form.
COMPOSER_AUTOLOAD_FLAGS = {
    "--optimize-autoloader": "--optimize",
    "-o": "--optimize",
    "--classmap-authoritative": "--classmap-authoritative",
    "-a": "--classmap-authoritative",
    "--apcu-autoloader": "--apcu",
    "--no-dev": "--no-dev",
    "--no-scripts": "--no-scripts",
}

# Files whose presence marks a monorepo: every member's manifest must come first.
MONOREPO_MARKERS = (
    "lerna.json",
    "nx.json",
    "turbo.json",
    "rush.json",
    "pnpm-workspace.yaml",
    "go.work",
)
