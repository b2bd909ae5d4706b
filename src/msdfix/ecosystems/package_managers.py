"""Package managers: which commands download, where their caches live, what defeats them.

Data, not code. Cache paths are from each tool's documentation:
pip (``~/.cache/pip``, ``PIP_CACHE_DIR``), uv (``~/.cache/uv``, ``UV_CACHE_DIR``), poetry
(``~/.cache/pypoetry``), pipenv (``~/.cache/pipenv``), npm (``~/.npm``, ``npm_config_cache``),
yarn v1 (``/usr/local/share/.cache/yarn`` for root, ``YARN_CACHE_FOLDER``), yarn berry
(``~/.yarn/berry/cache``), pnpm (``~/.local/share/pnpm/store``), Go (``GOMODCACHE`` =
``$GOPATH/pkg/mod``, ``GOCACHE`` = ``~/.cache/go-build``), Maven (``~/.m2/repository``), Gradle
(``$GRADLE_USER_HOME/caches`` and ``/wrapper``), Cargo (``$CARGO_HOME/registry``, ``/git/db``),
RubyGems/Bundler (``$GEM_HOME/cache``), Composer (``~/.cache/composer``), NuGet
(``~/.nuget/packages``), apt (``/var/cache/apt``, ``/var/lib/apt``), apk (``/var/cache/apk``),
dnf (``/var/cache/dnf``), yum/microdnf (``/var/cache/yum``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CacheDir:
    """A cache location: absolute, or ``~/``-relative, or ``$VAR``-relative with a fallback."""

    path: str
    env: tuple[tuple[str, str], ...] = ()  # (variable, suffix) that set it; first wins
    locked: bool = False  # sharing=locked: the tool cannot share its cache concurrently
    store: bool = False  # the cache is the dependency store later builds steps read from
    # A package index that installs read and only a refresh writes (apt lists): mounted only
    # where the same RUN refreshes it first and nothing later reads it from the image.
    index: bool = False


@dataclass(frozen=True)
class PackageManager:
    """One tool: how to recognise its downloading commands and where it caches."""

    id: str
    programs: tuple[str, ...]
    subcommands: tuple[str, ...]  # empty: any invocation downloads
    caches: tuple[CacheDir, ...]
    defeat_flags: tuple[str, ...] = ()  # flags that disable the cache; removed when mounted
    clean_commands: tuple[tuple[str, ...], ...] = ()  # argv prefixes that only empty the cache
    runtime_users: tuple[tuple[str, ...], ...] = ()  # CMD argv prefixes that read the cache
    system: bool = False  # caches outside HOME (root-only system package managers)
    # hadolint (DL3032/DL3040) wants the cleanup even with a mount: never remove it, and add no
    # mount to a RUN that empties the cache anyway.
    keeps_cleanup: bool = False
    replace_flags: dict[str, str] = field(default_factory=dict)
    value_options: tuple[str, ...] = ()  # options before the subcommand that take a value
    refresh: tuple[str, ...] = ()  # subcommands that refresh the package index
    # argv prefixes (besides the downloading subcommands) that read the package index
    index_readers: tuple[tuple[str, ...], ...] = ()
    offline_flags: tuple[str, ...] = ()  # flags that make the tool read only its cache
    # Why msdfix adds no mount for this tool (it would cache nothing), or "" when it does.
    no_mount: str = ""
    # Options inserted after the program so downloads stay on the mount (apt's docker-clean
    # hook deletes /var/cache/apt/archives/*.deb after every install), per program.
    keep_options: dict[str, str] = field(default_factory=dict)


HOME_CACHE = "~"
APT_ARCHIVES_MOUNT = "/var/cache/apt"
APT_DEBS = "/var/cache/apt/debs"  # where the mounted RUNs keep .debs (out of docker-clean's way)

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "apt",
        ("apt-get", "apt", "aptitude"),
        ("install", "update", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall"),
        (
            CacheDir(APT_ARCHIVES_MOUNT, locked=True),
            CacheDir("/var/lib/apt/lists", locked=True, index=True),
        ),
        clean_commands=(("apt-get", "clean"), ("apt", "clean"), ("aptitude", "clean")),
        system=True,
        refresh=("update",),
        index_readers=(
            ("apt-cache",),
            ("apt-get", "source"),
            ("apt-get", "download"),
            ("apt", "list"),
            ("apt", "search"),
            ("apt", "show"),
            ("apt", "policy"),
            ("apt", "source"),
            ("apt", "download"),
            ("aptitude", "search"),
            ("aptitude", "show"),
            ("aptitude", "download"),
            ("aptitude", "source"),
        ),
        keep_options={
            "apt-get": f"-o Dir::Cache::Archives={APT_DEBS}",
            "aptitude": f"-o Dir::Cache::Archives={APT_DEBS}",
            "apt": f"-o Dir::Cache::Archives={APT_DEBS} -o APT::Keep-Downloaded-Packages=true",
        },
        value_options=(
            "-o",
            "-c",
            "-t",
            "-a",
            "--option",
            "--config-file",
            "--target-release",
            "--default-release",
            "--host-architecture",
        ),
    ),
    PackageManager(
        "apk",
        ("apk",),
        ("add", "update", "upgrade", "fix"),
        (),
        system=True,
        no_mount="apk keeps no packages unless /etc/apk/cache is set up, so a mount caches nothing",
    ),
    PackageManager(
        "dnf",
        ("dnf", "dnf5"),
        ("install", "upgrade", "update", "makecache", "builddep", "reinstall"),
        (CacheDir("/var/cache/dnf", locked=True),),
        clean_commands=(("dnf", "clean"), ("dnf5", "clean")),
        system=True,
        keeps_cleanup=True,
    ),
    PackageManager(
        "yum",
        ("yum", "microdnf"),
        ("install", "upgrade", "update", "makecache", "reinstall"),
        (CacheDir("/var/cache/yum", locked=True),),
        clean_commands=(("yum", "clean"), ("microdnf", "clean")),
        system=True,
        keeps_cleanup=True,
    ),
    PackageManager(
        "pip",
        ("pip", "pip3", "pip3.8", "pip3.9", "pip3.10", "pip3.11", "pip3.12", "pip3.13"),
        ("install", "wheel", "download"),
        (CacheDir("~/.cache/pip", (("PIP_CACHE_DIR", ""),)),),
        defeat_flags=("--no-cache-dir",),
        clean_commands=(("pip", "cache", "purge"), ("pip3", "cache", "purge")),
    ),
    PackageManager(
        "uv",
        ("uv",),
        ("pip", "sync", "add", "tool", "venv", "lock"),
        (CacheDir("~/.cache/uv", (("UV_CACHE_DIR", ""),)),),
        defeat_flags=("--no-cache",),
        clean_commands=(("uv", "cache", "clean"),),
        value_options=("--directory", "--project", "--cache-dir"),
    ),
    PackageManager(
        "poetry",
        ("poetry",),
        ("install", "update", "add", "lock"),
        (  # not the whole cache dir: poetry creates its virtualenvs under it
            CacheDir("~/.cache/pypoetry/cache", (("POETRY_CACHE_DIR", "/cache"),)),
            CacheDir("~/.cache/pypoetry/artifacts", (("POETRY_CACHE_DIR", "/artifacts"),)),
        ),
        defeat_flags=("--no-cache",),
    ),
    PackageManager(
        "pipenv",
        ("pipenv",),
        ("install", "sync", "update", "lock"),
        (
            CacheDir("~/.cache/pipenv", (("PIPENV_CACHE_DIR", ""),)),
            CacheDir("~/.cache/pip", (("PIP_CACHE_DIR", ""),)),
        ),
    ),
    PackageManager(
        "npm",
        ("npm",),
        ("install", "ci", "i", "add", "update", "isntall", "install-clean", "ic"),
        (
            CacheDir(
                "~/.npm",
                (
                    ("npm_config_cache", ""),
                    ("NPM_CONFIG_CACHE", ""),
                ),
            ),
        ),
        clean_commands=(("npm", "cache", "clean"),),
        offline_flags=("--offline",),
        value_options=("--prefix", "-C", "--workspace", "-w"),
    ),
    PackageManager(
        "yarn",
        ("yarn",),
        ("", "install", "add", "upgrade", "global"),
        (CacheDir("/usr/local/share/.cache/yarn", (("YARN_CACHE_FOLDER", ""),), locked=True),),
        clean_commands=(("yarn", "cache", "clean"),),
        offline_flags=("--offline",),
        value_options=("--cwd",),
    ),
    PackageManager(
        "yarn-berry",
        ("yarn",),
        ("", "install", "add", "up", "dlx"),
        (CacheDir("~/.yarn/berry/cache", (("YARN_GLOBAL_FOLDER", "/cache"),)),),
        clean_commands=(("yarn", "cache", "clean"),),
        value_options=("--cwd",),
    ),
    PackageManager(
        "pnpm",
        ("pnpm",),
        ("install", "i", "add", "fetch", "update", "up"),
        (
            CacheDir(
                "~/.local/share/pnpm/store",
                (
                    ("npm_config_store_dir", ""),
                    ("PNPM_STORE_DIR", ""),
                ),
            ),
        ),
        clean_commands=(("pnpm", "store", "prune"),),
        offline_flags=("--offline",),
        value_options=("-C", "--dir", "--filter", "-F"),
    ),
    PackageManager(
        "go",
        ("go",),
        ("build", "install", "test", "get", "mod", "generate", "vet", "list"),
        (
            CacheDir(
                "~/go/pkg/mod",
                (
                    ("GOMODCACHE", ""),
                    ("GOPATH", "/pkg/mod"),
                ),
                store=True,
            ),
            CacheDir("~/.cache/go-build", (("GOCACHE", ""),)),
        ),
        clean_commands=(("go", "clean", "-modcache"), ("go", "clean", "-cache")),
        runtime_users=(("go", "run"), ("go", "test")),
        value_options=("-C",),
    ),
    PackageManager(
        "maven",
        ("mvn", "mvnw", "./mvnw"),
        (),
        (CacheDir("~/.m2/repository", (("MAVEN_REPO_LOCAL", ""),), store=True, locked=True),),
        runtime_users=(("mvn",), ("mvnw",), ("./mvnw",)),
        offline_flags=("-o", "--offline"),
    ),
    PackageManager(
        "gradle",
        ("gradle", "gradlew", "./gradlew"),
        (),
        (
            CacheDir("~/.gradle/caches", (("GRADLE_USER_HOME", "/caches"),), store=True),
            CacheDir("~/.gradle/wrapper", (("GRADLE_USER_HOME", "/wrapper"),), store=True),
        ),
        runtime_users=(("gradle",), ("gradlew",), ("./gradlew",)),
        offline_flags=("--offline",),
    ),
    PackageManager(
        "cargo",
        ("cargo",),
        ("build", "install", "fetch", "test", "vendor", "update", "generate-lockfile"),
        (
            CacheDir("~/.cargo/registry", (("CARGO_HOME", "/registry"),), store=True),
            CacheDir("~/.cargo/git/db", (("CARGO_HOME", "/git/db"),), store=True),
        ),
        runtime_users=(("cargo", "run"), ("cargo", "test")),
        offline_flags=("--offline", "--frozen"),
    ),
    PackageManager(
        "bundler",
        ("bundle", "bundler"),
        ("install", "update", "package", "cache"),
        (
            CacheDir(
                "",
                (
                    ("GEM_HOME", "/cache"),
                    ("BUNDLE_PATH", "/cache"),
                ),
            ),
        ),
    ),
    PackageManager(
        "gem",
        ("gem",),
        ("install", "update"),
        (CacheDir("", (("GEM_HOME", "/cache"),)),),
    ),
    PackageManager(
        "composer",
        ("composer", "composer.phar"),
        ("install", "update", "require", "create-project"),
        (
            CacheDir(
                "~/.cache/composer",
                (
                    ("COMPOSER_CACHE_DIR", ""),
                    ("COMPOSER_HOME", "/cache"),
                ),
            ),
        ),
        defeat_flags=("--no-cache",),
        clean_commands=(("composer", "clear-cache"), ("composer", "clearcache")),
        value_options=("-d", "--working-dir"),
    ),
    PackageManager(
        "nuget",
        ("dotnet",),
        ("restore", "publish"),
        (CacheDir("~/.nuget/packages", (("NUGET_PACKAGES", ""),), store=True),),
        runtime_users=(("dotnet", "run"), ("dotnet", "watch"), ("dotnet", "test")),
    ),
)

BY_ID = {m.id: m for m in MANAGERS}

# Programs that refresh apt's package index unless given one of these options.
INDEX_REFRESHERS: dict[str, tuple[str, ...]] = {
    "add-apt-repository": ("-n", "--no-update"),
    "apt-add-repository": ("-n", "--no-update"),
}

# Environment that official base images set, by image name (Docker Hub library images).
IMAGE_ENV: dict[str, dict[str, str]] = {
    "golang": {"GOPATH": "/go"},
    "rust": {"CARGO_HOME": "/usr/local/cargo"},
    "ruby": {"GEM_HOME": "/usr/local/bundle", "BUNDLE_PATH": "/usr/local/bundle"},
    "composer": {"COMPOSER_HOME": "/tmp"},
}

# Non-root users that official images create, by image name: user -> ("uid:gid", home).
IMAGE_USERS: dict[str, dict[str, tuple[str, str]]] = {
    "node": {"node": ("1000:1000", "/home/node"), "1000": ("1000:1000", "/home/node")},
    "gradle": {"gradle": ("1000:1000", "/home/gradle"), "1000": ("1000:1000", "/home/gradle")},
}

# Images whose default user is not root, so ``~`` is not /root (leave their stages alone).
NON_ROOT_IMAGES = (
    "jenkins/", "bitnami/", "circleci/", "cimg/", "gitpod/", "jupyter/", "selenium/",
    "sonarqube", "quay.io/jupyter/", "gcr.io/distroless/", "chainguard/", "cgr.dev/",
    "mcr.microsoft.com/devcontainers/", "mcr.microsoft.com/vscode/",
)  # fmt: skip
