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
                # RubyGems writes a .gem in place, then reads it back: concurrent builds
                # on a shared mount read each other's half-written files (FormatError)
                locked=True,
            ),
        ),
        inert_subcommands=("config", "--version", "self"),
        # read only the gems already in $GEM_HOME/cache (or vendor/cache)
        offline_flags=("--local", "--no-install"),
        # an install at container start reads the cache the image carries
        runtime_users=tuple((p, s) for p in ("bundle", "bundler") for s in ("install", "update")),
    ),
    PackageManager(
        "gem",
        ("gem",),
        ("install", "update"),
        (CacheDir("", (("GEM_HOME", "/cache"),), locked=True),),
        runtime_users=(("gem", "install"), ("gem", "update")),
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
