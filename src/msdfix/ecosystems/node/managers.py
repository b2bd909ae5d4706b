"""npm, yarn, pnpm and bun as package managers: their commands, options, caches and manifests."""

from __future__ import annotations

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager

# npm's spellings of ``npm install`` (its command aliases) and of ``npm ci``.
NPM_INSTALL = frozenset("install i in ins inst insta instal isnt isnta isntal isntall add".split())
NPM_CLEAN_INSTALL = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean"})
# npm's spellings of ``npm exec`` (its alias x, and exe: npm's command lookup takes a unique
# abbreviation) and of ``npm install-test`` / ``install-ci-test``, an install then npm test
# (npm/cli lib/utils/cmd-list.js).
NPM_EXEC = frozenset({"exec", "x", "exe"})
NPM_INSTALL_TEST = frozenset(
    {"install-test", "it", "install-ci-test", "cit", "sit", "clean-install-test"}
)

# npm's string-typed settings take the next word as their value (``npm --loglevel warn
# start`` runs start): those used before a command, from npm's config docs.
NPM_VALUE_OPTIONS = (
    "--prefix", "-C", "--workspace", "-w", "--loglevel", "--userconfig", "--globalconfig",
    "--cache", "--registry", "--scope", "--tag", "--include", "--omit", "--script-shell",
    "--node-options",
)  # fmt: skip

# the .npmrc line that makes npm and pnpm read only their cache (``offline`` alone is true)
NPMRC_OFFLINE = r"(?m)^[^\S\n]*offline[^\S\n]*(?:=|$)"

# Caches: npm (``~/.npm``, ``npm_config_cache``), yarn v1 (``/usr/local/share/.cache/yarn`` for
# root, ``YARN_CACHE_FOLDER``), yarn berry (``~/.yarn/berry/cache``), pnpm
# (``~/.local/share/pnpm/store``, or ``$PNPM_HOME/store``), bun (``~/.bun/install/cache``,
# ``BUN_INSTALL_CACHE_DIR``; on Linux bun hard-links packages from it into node_modules and
# copies them when the cache is on another file system, as a cache mount is).
MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "npm",
        ("npm",),
        (*sorted(NPM_INSTALL | NPM_CLEAN_INSTALL), "update"),
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
        # an install (or npx) at container start reads the cache the image carries, in each
        # of npm's spellings (built: `npm x -- tsc` of a dev dependency answered offline on
        # node:18 and failed on a split pruning dev dependencies, EAI_AGAIN)
        runtime_users=(
            *(("npm", c) for c in sorted(NPM_INSTALL | NPM_CLEAN_INSTALL | NPM_INSTALL_TEST)),
            *(("npm", c) for c in sorted(NPM_EXEC)),
            ("npx",),
        ),
        offline_flags=("--offline",),
        # npm reads every setting from npm_config_<name>, in either case
        offline_env=(("npm_config_offline", "true"), ("NPM_CONFIG_OFFLINE", "true")),
        prefer_cache_flags=("--prefer-offline",),
        prefer_cache_env=(
            ("npm_config_prefer_offline", "true"),
            ("NPM_CONFIG_PREFER_OFFLINE", "true"),
        ),
        # @npmcli/config: "--cache-min=9999 (or bigger) is an alias for --prefer-offline"
        prefer_cache_min=("--cache-min",),
        prefer_cache_min_env=("npm_config_cache_min", "NPM_CONFIG_CACHE_MIN"),
        locked_subcommands=tuple(sorted(NPM_CLEAN_INSTALL)),
        value_options=NPM_VALUE_OPTIONS,
        cache_options=("--cache",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        tidy_subcommands=("prune",),
        config_files=(".npmrc", "npmrc"),
        # npm's ini reads a line at a time, and a key without "=" is true (`offline` alone);
        # within one line, so blank lines cost linear time (`^\s*` took hours on 500,000)
        # (``prefer-offline`` resolves versions from the cache: see ``prefer_cache_flags``)
        config_keys=r"(?m)^[^\S\n]*(?:cache(?:[-_]min)?|(?:prefer[-_])?offline)[^\S\n]*(?:=|$)",
        config_env=("NPM_CONFIG_USERCONFIG", "NPM_CONFIG_GLOBALCONFIG", "npm_config_userconfig"),
        offline_config_keys=NPMRC_OFFLINE,
    ),
    PackageManager(
        "yarn",
        ("yarn",),
        ("", "install", "add", "upgrade", "global"),
        (  # yarn 1 caches in $XDG_CACHE_HOME/yarn when it is set (yarn cache dir)
            CacheDir(
                "/usr/local/share/.cache/yarn",
                (("YARN_CACHE_FOLDER", ""), ("XDG_CACHE_HOME", "/yarn")),
                locked=True,
            ),
        ),
        clean_commands=(("yarn", "cache", "clean"),),
        runtime_users=(("yarn", "install"), ("yarn", "add")),
        offline_flags=("--offline",),
        # yarn 1 resolves a range to the newest version in its cache; --frozen-lockfile pins
        # nothing where there is no yarn.lock (yarn exits 0 without one)
        prefer_cache_flags=("--prefer-offline",),
        value_options=("--cwd",),
        cache_options=("--cache-folder",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".yarnrc",),
        config_keys=r"cache-folder|prefer-offline",
    ),
    PackageManager(
        "yarn-berry",
        ("yarn",),
        ("", "install", "add", "up", "dlx"),
        (  # the global folder is $XDG_DATA_HOME/yarn/berry when that is set
            CacheDir(
                "~/.yarn/berry/cache",
                (("YARN_GLOBAL_FOLDER", "/cache"), ("XDG_DATA_HOME", "/yarn/berry/cache")),
            ),
        ),
        clean_commands=(("yarn", "cache", "clean"),),
        # enableNetwork false makes yarn fetch from its cache alone (built, yarn 4.5.0: with
        # the first install's cache on an emptied mount, a later install under
        # YARN_ENABLE_NETWORK=0 failed, the original installed is-number 7.0.0);
        # enableOfflineMode only prefers the cache (built the same: it fetched what was missing)
        offline_env=(("YARN_ENABLE_NETWORK", "0"), ("YARN_ENABLE_NETWORK", "false")),
        offline_config_keys=r"enableNetwork[\s\"':]+(?:false|0)\b",
        value_options=("--cwd",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".yarnrc.yml",),
        config_keys=r"cacheFolder|globalFolder|enableGlobalCache|enableNetwork",
        config_env=("YARN_RC_FILENAME",),
    ),
    PackageManager(
        "pnpm",
        ("pnpm",),
        ("install", "i", "add", "fetch", "update", "up"),
        (  # the store keeps what install scripts build (side-effects-cache, on by default)
            CacheDir(
                "~/.local/share/pnpm/store",
                (  # store-dir, else <pnpm home>/store: $PNPM_HOME, $XDG_DATA_HOME/pnpm, ~/...
                    ("npm_config_store_dir", ""),
                    ("PNPM_STORE_DIR", ""),
                    ("PNPM_HOME", "/store"),
                    ("XDG_DATA_HOME", "/pnpm/store"),
                ),
                builds="scripts",
            ),
        ),
        clean_commands=(("pnpm", "store", "prune"),),
        clean_keeps_used=True,
        # package-import-method "auto" hard-links the store's files into node_modules: a plain
        # install's copied lock made a real rewrite 20,980 bytes larger (eighteenth round)
        links_cache=True,
        runtime_users=(("pnpm", "install"), ("pnpm", "i"), ("pnpm", "dlx"), ("pnpx",)),
        # pnpm reads .npmrc and npm_config_* as npm does (built, pnpm 8.15.9: with the first
        # install's store on an emptied mount, a later install after `echo offline=true >>
        # /root/.npmrc` or `ENV npm_config_offline=true` failed, ERR_PNPM_NO_OFFLINE_TARBALL)
        offline_flags=("--offline",),
        offline_env=(("npm_config_offline", "true"), ("NPM_CONFIG_OFFLINE", "true")),
        offline_config_keys=NPMRC_OFFLINE,
        value_options=("-C", "--dir", "--filter", "-F"),
        cache_options=("--store-dir",),
        # ``pnpm store prune|status|path|add`` manage the store, not the project's files
        inert_subcommands=("config", "cache", "store", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".npmrc", "npmrc"),
        config_keys=r"(?m)store-dir|cache-dir|" + NPMRC_OFFLINE.removeprefix("(?m)"),
        config_env=("NPM_CONFIG_USERCONFIG", "npm_config_userconfig"),
    ),
    PackageManager(
        "bun",
        ("bun",),
        ("install", "i", "add", "update"),
        (CacheDir("~/.bun/install/cache", (("BUN_INSTALL_CACHE_DIR", ""),)),),
        clean_commands=(("bun", "pm", "cache", "rm"),),
        # bun's Linux backend is "hardlink": node_modules and the cache share their files (a
        # real install layer was 4.26 MB with the cache in it and without)
        links_cache=True,
        runtime_users=(("bunx",), ("bun", "x")),  # auto-installs into the cache at start
        # bun keeps the registry's manifests in its cache: --offline installs from it alone,
        # --prefer-offline resolves from it "even with expired data" (read: bun's own tests)
        offline_flags=("--offline",),
        prefer_cache_flags=("--prefer-offline",),
        value_options=("--cwd",),
        cache_options=("--cache-dir",),
        inert_subcommands=("pm", "upgrade", "--version"),
        global_markers=("-g", "--global"),
        link_option="--backend",
        config_files=("bunfig.toml",),
        config_keys=r"cache",
    ),
)


NPM = Ecosystem(
    "npm",
    ("npm",),
    ("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"),
    guess=("package*.json", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
YARN = Ecosystem(
    "yarn",
    ("yarn", "yarn-berry"),
    # .yarnclean: yarn 1 deletes the files it names from node_modules on every install
    ("package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", ".yarnclean", ".yarn/"),
    guess=("package.json", "yarn.lock*", ".yarnrc*", ".npmrc*"),
    outputs=("node_modules", ".pnp.cjs", ".pnp.loader.mjs"),
    key="package.json",
    checks="node",
    # .yarn/releases/yarn-4.5.0.cjs is 2.75 MB: copied twice, a real image grew by 2,747,188
    # bytes with the global cache on a cache mount (a one-package app)
    uncached=(".yarn/",),
)
PNPM = Ecosystem(
    "pnpm",
    ("pnpm",),
    ("package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".pnpmfile.cjs"),
    guess=("package.json", "pnpm-lock.yaml*", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
BUN = Ecosystem(
    "bun",
    ("bun",),
    ("package.json", "bun.lock", "bun.lockb", "bunfig.toml", ".npmrc"),
    guess=("package.json", "bun.lock*", "bunfig.toml*", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
MANIFESTS: tuple[Ecosystem, ...] = (
    NPM,
    YARN,
    PNPM,
    BUN,
)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "npm": ("ci", "install", "i", "install-clean", "ic"),
    "yarn": ("", "install"),
    "yarn-berry": ("", "install"),
    "pnpm": ("install", "i", "fetch"),
    "bun": ("install", "i"),
}
