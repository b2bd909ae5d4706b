"""Java: Maven (``~/.m2/repository``) and Gradle (``$GRADLE_USER_HOME/caches`` and ``/wrapper``),
their build files, and the JRE image of a JDK, Maven or Gradle image.

Data, not code.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager
from msdfix.files import decimal

_MAVEN_OFFLINE = r"<offline>\s*true|(?:^|\s)(?:-o|--offline)(?=\s|$)"

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "maven",
        ("mvn", "mvnw", "./mvnw"),
        (),
        (CacheDir("~/.m2/repository", (("MAVEN_REPO_LOCAL", ""),), store=True, locked=True),),
        runtime_users=(("mvn",), ("mvnw",), ("./mvnw",)),
        cache_options=("-Dmaven.repo.local",),
        offline_flags=("-o", "--offline"),
        # mvn 3.9+ puts MAVEN_ARGS's words before the command line's (read: MNG-5824, the
        # mvn script; not built: Maven Central is not reachable here), so `-o` there is offline
        args_env=("MAVEN_ARGS",),
        # settings.xml's <offline> and .mvn/maven.config's -o make every mvn read only the
        # local repository, as the flag does (read from Maven's docs; Central is not reachable
        # from the builds here)
        config_files=("settings.xml", "maven.config"),
        config_keys=r"localRepository|maven\.repo\.local|" + _MAVEN_OFFLINE,
        offline_config_keys=_MAVEN_OFFLINE,
    ),
    PackageManager(
        "gradle",
        ("gradle", "gradlew", "./gradlew"),
        (),
        (  # Gradle asks the owner of a cache lock to release it over UDP on loopback, and
            # each BuildKit RUN has a network namespace of its own: a second build on the
            # shared mount waits for an answer that never comes ("Timeout waiting to lock")
            CacheDir(
                "~/.gradle/caches", (("GRADLE_USER_HOME", "/caches"),), store=True, locked=True
            ),
            CacheDir("~/.gradle/wrapper", (("GRADLE_USER_HOME", "/wrapper"),), store=True),
        ),
        runtime_users=(("gradle",), ("gradlew",), ("./gradlew",)),
        offline_flags=("--offline",),
    ),
)


MAVEN = Ecosystem(
    "maven",
    ("maven",),
    ("pom.xml", ".mvn/", "mvnw"),
    fetch="{prog} -B dependency:go-offline",
    key="pom.xml",
    checks="maven",
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
    checks="gradle",
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
MANIFESTS: tuple[Ecosystem, ...] = (
    MAVEN,
    GRADLE,
)


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = (
    "maven",
    "gradle",
    "eclipse-temurin",
    "amazoncorretto",
    "sapmachine",
)


JAVA_BUILD_TASKS = {
    "maven": {"package", "install", "verify"},
    "gradle": {"build", "bootjar", "jar", "installdist", "assemble", "shadowjar"},
}


def java_runtime(full_name: str, tag: str | None) -> tuple[str, bool] | None:
    """(JRE image of the same vendor and major version, safe) for a JDK/Maven/Gradle image."""
    tag = (tag or "").lower()
    name = full_name.lower()
    suffix = ""
    for os_name in ("alpine", "jammy", "focal", "noble", "ubi9-minimal"):
        if tag.endswith("-" + os_name):
            suffix = "-" + os_name
    if name in ("maven", "gradle"):
        match = re.search(r"(?:eclipse-temurin-|-jdk-?|temurin-)(\d+)", tag)
        if match and "corretto" not in tag and "semeru" not in tag and "sapmachine" not in tag:
            major = decimal(match.group(1))
            if "openjdk" in tag or ("-jdk-" in tag and major < 17 and name == "maven"):
                return (f"openjdk:{major}-jre-slim", True) if major in (8, 11) else None
            return f"eclipse-temurin:{major}-jre{suffix}", True
        match = re.search(r"sapmachine-(\d+)", tag)
        if match:
            return f"sapmachine:{match.group(1)}-jre", True
        return None
    if name == "eclipse-temurin":
        match = re.match(r"^(\d+)(?:\.[0-9._]+)?(?:-jdk)?(-[a-z0-9-]+)?$", tag)
        if match and "jre" not in tag:
            return f"eclipse-temurin:{match.group(1)}-jre{suffix}", True
        return None
    if name == "sapmachine":
        match = re.match(r"^(\d+)(?:-jdk)?$", tag)
        return (f"sapmachine:{match.group(1)}-jre", True) if match else None
    return None


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = ("java",)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("openjdk",)
