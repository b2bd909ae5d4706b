""".NET: NuGet through ``dotnet restore``/``publish`` (``~/.nuget/packages``), project files and
the runtime images of ``dotnet publish`` output.

Data, not code.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "nuget",
        ("dotnet",),
        ("restore", "build", "test", "pack", "publish"),
        # NuGet locks a package's extraction with a file in its temp folder
        # (/tmp/NuGetScratch/lock), outside the mount: builds sharing it would not exclude
        # each other
        (CacheDir("~/.nuget/packages", (("NUGET_PACKAGES", ""),), store=True, locked=True),),
        runtime_users=tuple(  # build, publish and pack restore what is missing, as run does
            ("dotnet", s) for s in ("run", "watch", "test", "build", "publish", "pack", "restore")
        ),
        global_markers=("-g", "--global", "global"),
        # build, test, publish, pack and run skip their implicit restore: they read the
        # packages from the global packages folder as an earlier step left it
        offline_flags=("--no-restore", "--no-build"),
        config_files=("nuget.config", "NuGet.Config", "NuGet.config"),
        config_keys=r"globalPackagesFolder",
    ),
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
MANIFESTS: tuple[Ecosystem, ...] = (DOTNET,)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "nuget": ("restore",),
}


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("mcr.microsoft.com/dotnet/sdk",)


def dotnet_runtime(tag: str | None, web: bool) -> str | None:
    """mcr.microsoft.com/dotnet/{aspnet,runtime} with the SDK's version and OS suffix."""
    match = re.match(r"^(\d+\.\d+)(-[a-z0-9.-]+)?$", tag or "")
    if not match:
        return None
    image = "aspnet" if web else "runtime"
    return f"mcr.microsoft.com/dotnet/{image}:{match.group(1)}{match.group(2) or ''}"


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = ("dotnet",)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ()
