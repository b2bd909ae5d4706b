"""PHP: Composer (``~/.composer/cache`` or ``~/.cache/composer``), composer.json and the scripts and autoloader flags of
``composer install``.

Data, not code.
"""

from __future__ import annotations

from msdfix.ecosystems.base import NEVER_WRITES, CacheDir, Ecosystem, PackageManager

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "composer",
        ("composer", "composer.phar"),
        ("install", "update", "require", "create-project"),
        # $COMPOSER_HOME/cache, where COMPOSER_HOME is ~/.composer, unless an XDG_* variable
        # is set or /etc/xdg exists (then ~/.cache/composer): whether the image has /etc/xdg
        # is unknown, so both are mounted (the root of debian and php images uses the first).
        (
            CacheDir(
                "~/.composer/cache",
                (
                    ("COMPOSER_CACHE_DIR", ""),
                    ("COMPOSER_HOME", "/cache"),
                ),
            ),
            CacheDir(
                "~/.cache/composer",
                (
                    ("COMPOSER_CACHE_DIR", ""),
                    ("COMPOSER_HOME", "/cache"),
                    ("XDG_CACHE_HOME", "/composer"),
                ),
            ),
        ),
        defeat_flags=("--no-cache",),
        clean_commands=(("composer", "clear-cache"), ("composer", "clearcache")),
        runtime_users=tuple(
            (p, s) for p in ("composer", "composer.phar") for s in ("install", "update", "require")
        ),
        value_options=("-d", "--working-dir"),
        # composer's docs: "If set to 1, disables network access (best effort)"; what it
        # installs then comes from its cache alone
        offline_env=(("COMPOSER_DISABLE_NETWORK", "1"),),
        inert_subcommands=("config", "--version", "self"),
        global_markers=("global",),
        config_files=("config.json",),
        config_keys=r"cache-dir|cache-files-dir|cache-repo-dir",
        home_config_files=("config.json",),  # $COMPOSER_HOME/config.json
        config_homes=(".composer", "composer", "tmp"),  # the composer image: COMPOSER_HOME=/tmp
    ),
)


COMPOSER = Ecosystem(
    "composer",
    ("composer",),
    ("composer.json", "composer.lock", "auth.json"),
    guess=("composer.json", "composer.lock*"),
    outputs=("vendor",),
    key="composer.json",
    checks="composer",
)
MANIFESTS: tuple[Ecosystem, ...] = (COMPOSER,)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "composer": ("install",),
}


def composer_manifest_writes(words: list[str]) -> str | None:
    """How ``composer install`` (``words``: its arguments that are no options or their values)
    writes the manifests it reads: never (``base.NEVER_WRITES``): it installs what
    composer.lock names, and only warns when the lock is older than composer.json (built with
    both on read-only bind mounts, stale lock included); None for other commands."""
    return NEVER_WRITES if words == ["install"] else None


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
    "--no-plugins": "--no-plugins",
    # the platform check the autoloader writes (vendor/composer/platform_check.php)
    "--ignore-platform-reqs": "--ignore-platform-reqs",
}
# ``composer install`` options with a value, and their ``dump-autoload`` form.
COMPOSER_AUTOLOAD_VALUE_FLAGS = {
    "--ignore-platform-req": "--ignore-platform-req",
    "--apcu-autoloader-prefix": "--apcu-prefix",
}


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = ("php", "php-fpm")
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("php",)
