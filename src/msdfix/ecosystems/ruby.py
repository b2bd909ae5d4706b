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
        inert_subcommands=("config", "--version", "self"),
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
    key="Gemfile",
    checks="bundler",
)
MANIFESTS: tuple[Ecosystem, ...] = (BUNDLER,)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "bundler": ("install",),
}


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = ("ruby", "bundle", "rails", "puma", "rackup")
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("ruby",)
