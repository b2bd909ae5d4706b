"""Ruby: Bundler and RubyGems (``$GEM_HOME/cache``) and the Gemfile.

Data, not code.
"""

from __future__ import annotations

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager

MANAGERS: tuple[PackageManager, ...] = (
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
)


BUNDLER = Ecosystem(
    "bundler",
    ("bundler",),
    ("Gemfile", "Gemfile.lock", ".bundle/"),
    guess=("Gemfile", "Gemfile.lock*"),
    outputs=("vendor/bundle",),
)
MANIFESTS: tuple[Ecosystem, ...] = (BUNDLER,)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "bundler": ("install",),
}
