"""The shapes of the per-ecosystem tables: package managers, their caches, dependency manifests.

Data, not code. Each ecosystem module (``os``, ``python``, ``node``, ``go``, ``java``, ``rust``,
``ruby``, ``php``, ``dotnet``) fills these in; :mod:`msdfix.ecosystems.registry` lists them all.
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
    # where the same RUN refreshes it first and nothing later reads it from the image. The
    # manager's clean command (``apt-get clean``) leaves it alone.
    index: bool = False
    # Also holds repository metadata the tool trusts until it expires (dnf, yum): metadata left
    # on the mount by an earlier build can name package versions the mirrors have since
    # dropped, so the mount is safe only where the tool re-checks it (``refresh_options``).
    metadata: bool = False
    # Subdirectories where the tool keeps what it built itself, keyed without the build's
    # environment (pip's wheels/: a wheel built from an sdist without a -dev library's
    # headers would be reused after one is installed): each gets a tmpfs of its own, so only
    # downloads are shared between builds.
    built: tuple[str, ...] = ()
    # What the tool builds and keeps here among its downloads, keyed without the build's
    # environment, where no tmpfs can split it off: "wheels" (built from sdists), "scripts"
    # (the files install scripts produce), "cgo" (objects compiled against C headers). Such
    # a cache is shared only where the build's evidence shows nothing of that kind is built.
    builds: str = ""
    # The options of the manager's clean command that empty this cache (``go clean
    # -modcache``: the module store, ``-cache``: the build cache); empty: any clean command
    # of the manager empties it.
    cleaned_by: tuple[str, ...] = ()

    def cleaned(self, args: tuple[str, ...] | list[str]) -> bool:
        """True when a clean command with ``args`` empties this cache."""
        return not self.cleaned_by or any(a in self.cleaned_by for a in args)


@dataclass(frozen=True)
class PackageManager:
    """One tool: how to recognise its downloading commands and where it caches."""

    id: str
    programs: tuple[str, ...]
    subcommands: tuple[str, ...]  # empty: any invocation downloads
    caches: tuple[CacheDir, ...]
    defeat_flags: tuple[str, ...] = ()  # flags that disable the cache; removed when mounted
    clean_commands: tuple[tuple[str, ...], ...] = ()  # argv prefixes that only empty the cache
    # The clean command keeps what installed projects still use (``pnpm store prune`` removes
    # only unreferenced packages): the image keeps the downloads of the install before it.
    clean_keeps_used: bool = False
    runtime_users: tuple[tuple[str, ...], ...] = ()  # CMD argv prefixes that read the cache
    system: bool = False  # caches outside HOME (root-only system package managers)
    # Installs hard-link the cached files into the project: the cache adds nothing to the
    # image, so a cache mount saves no space there.
    links_cache: bool = False
    # link modes (``link_option``) that copy the files out of the cache instead
    copy_link_modes: tuple[str, ...] = ()
    # The cache keeps a download only where the server's HTTP caching headers allow it (pip's
    # CacheControl cache): an index or mirror that sends none leaves it empty.
    caches_by_headers: bool = False
    # As root, the tool keeps no cache where the first directory of the cache's path that
    # exists is not root's (pip's check_path_owner, for ``sudo`` without ``-H``).
    root_owner_check: bool = False
    # hadolint (DL3032/DL3040) wants the cleanup even with a mount: never remove it, and add no
    # mount to a RUN that empties the cache anyway.
    keeps_cleanup: bool = False
    replace_flags: dict[str, str] = field(default_factory=dict)
    value_options: tuple[str, ...] = ()  # options before the subcommand that take a value
    refresh: tuple[str, ...] = ()  # subcommands that refresh the package index
    refresh_options: tuple[str, ...] = ()  # options that re-check cached repository metadata
    # Settings (lower case, in an option's value) that make a refresh fetch only some of the
    # sources (apt's ``-o Dir::Etc::sourcelist=...``): the rest of the index is read as the
    # image holds it, so such a refresh counts as a read of the index.
    partial_refresh: tuple[str, ...] = ()
    # argv prefixes (besides the downloading subcommands) that read the package index
    index_readers: tuple[tuple[str, ...], ...] = ()
    offline_flags: tuple[str, ...] = ()  # flags that make the tool read only its cache
    offline_env: tuple[tuple[str, str], ...] = ()  # variable=value that do the same
    # variables whose words the tool reads as arguments before its own (Maven's MAVEN_ARGS)
    args_env: tuple[str, ...] = ()
    # Flags (and variable=value) that make the tool resolve version ranges from the package
    # metadata or packages its cache holds, without asking the registry (``--prefer-offline``):
    # a cache an older build or another project filled installs older versions.
    prefer_cache_flags: tuple[str, ...] = ()
    prefer_cache_env: tuple[tuple[str, str], ...] = ()
    # A number option (and its variables) that means the same at PREFER_CACHE_MIN or above
    # (npm's deprecated ``--cache-min=9999999``, an alias of ``--prefer-offline``).
    prefer_cache_min: tuple[str, ...] = ()
    prefer_cache_min_env: tuple[str, ...] = ()
    # Settings of a configuration file (``config_files``) that make the tool read only its
    # cache, as ``offline_flags`` do (settings.xml's ``<offline>true</offline>``)
    offline_config_keys: str = ""
    # Subcommands that install exactly what the lock file names, and fail without one
    # (``npm ci``): nothing is resolved from the cache there.
    locked_subcommands: tuple[str, ...] = ()
    # Why msdfix adds no mount for this tool (it would cache nothing), or "" when it does.
    no_mount: str = ""
    # Options inserted after the program so downloads stay on the mount (apt's docker-clean
    # hook deletes /var/cache/apt/archives/*.deb after every install), per program.
    keep_options: dict[str, str] = field(default_factory=dict)
    cache_options: tuple[str, ...] = ()  # options whose value is the cache directory
    no_cache_env: tuple[str, ...] = ()  # variables that turn the cache off (nothing to mount)
    # Subcommands that read nothing of the project (``config``, ``cache``); empty: the tool's
    # command line is not read that way (go, cargo, maven, ... have their own grammar).
    inert_subcommands: tuple[str, ...] = ()
    # Options or subcommands that install outside the project (``-g``, ``global``).
    global_markers: tuple[str, ...] = ()
    # Subcommands that only tidy the project's installed dependencies (``npm prune``).
    tidy_subcommands: tuple[str, ...] = ()
    # The option and variable that choose how packages come from the cache into the install:
    # "symlink" leaves links into the cache, which point nowhere once it is a mount.
    link_option: str = ""
    link_env: str = ""
    link_config: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (context file, key path)
    # Configuration files (base names) that may move the cache, the pattern of the settings
    # that do, and variables that name another configuration file.
    config_files: tuple[str, ...] = ()
    config_keys: str = ""
    config_env: tuple[str, ...] = ()
    # options that name another configuration file (``apt-get -c FILE``)
    config_options: tuple[str, ...] = ()
    # image paths where a copied file is the tool's configuration whatever its name
    config_dests: tuple[str, ...] = ()
    # Names among ``config_files`` that the tool reads only in its home folder, whose names
    # (``config_homes``) a path must show to be the tool's: composer's config.json in
    # COMPOSER_HOME, poetry's and pdm's config.toml in ~/.config/pypoetry and ~/.config/pdm.
    # A project's own config.json or config.toml is no configuration of the tool.
    home_config_files: tuple[str, ...] = ()
    config_homes: tuple[str, ...] = ()

    def subcommand_of(self, args: list[str]) -> str:
        """The first argument that is neither an option nor an option's value ('' if none):
        ``pip --cache-dir /tmp install x`` -> ``install``."""
        return next(iter(positionals(args, frozenset(self.value_options))), "")


def positionals(args: list[str], value_options: set[str] | frozenset[str]) -> list[str]:
    """The arguments that are neither options nor the values of ``value_options``."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in value_options:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def option(args: list[str], *names: str) -> str | None:
    """The value of the first of ``names`` given as ``name value`` or ``name=value``."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


HOME_CACHE = "~"


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
    key: str = ""  # the manifest an install cannot run without (package.json, pyproject.toml)
    checks: str = ""  # whose manifest hazards apply: the ecosystem module's name ("node")
    # Install options that leave the project itself out (``--no-root``); empty: not checked.
    no_self: tuple[str, ...] = ()
    # A regex (re.M) over the key manifest that does the same; [^\S\n]* after ^, not \s*
    # (which ran from every line start over all the blank lines below: quadratic).
    no_self_setting: str = ""
    # Manifest folders whose files stand for no download a cache mount could take out of the
    # image (Yarn Berry's .yarn/: its release, plugins, in-project cache): copied for the
    # install, the image holds them twice whatever the cache mount saves.
    uncached: tuple[str, ...] = ()


# How an install treats the manifests it reads, which decides how reorder-copy may show them
# to it without a COPY (a second copy in the image): ``NEVER_WRITES`` (documented never to
# write them: a read-only bind mount), ``WRITES_IN_PLACE`` (may rewrite one, opening the file
# itself: a read-write bind mount, whose writes BuildKit discards, as the full COPY after the
# install overwrites them). A tool that replaces a file by renaming another over it fails on a
# bind mount ("EBUSY: resource busy or locked, rename"), so it gets neither.
NEVER_WRITES = "never"
WRITES_IN_PLACE = "in place"
