"""How a runtime image gets a non-root user: a user it ships, a variant, or the tools to add one.

Data, not code. Debian and Ubuntu based images ship ``useradd``/``groupadd`` (the ``passwd``
package is required in both); Alpine images ship busybox ``adduser``/``addgroup``; distroless
images have a ``:nonroot`` variant (uid 65532); ``scratch`` has no user database, so only a
numeric uid works. Service images whose process starts as root and drops privileges itself, or
writes its pid and cache files in root-owned directories, need root. Anything else is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from msdfix.model.base_images import library_name
from msdfix.model.image import ImageRef, parse_image

APP_UID = "10001"  # fixed, above every distribution's system and login ranges
APP_NAME = "app"
DISTROLESS_NONROOT_UID = "65532"

# Official images built on Debian or Ubuntu (their -alpine tags are Alpine).
DEBIAN_BASED = frozenset(
    """
    debian ubuntu buildpack-deps python pypy golang rust ruby perl php openjdk eclipse-temurin
    gcc erlang elixir haskell julia swift r-base clojure maven gradle dart
    """.split()
)
# Tags of those images that name another OS: eclipse-temurin's ``-ubi9-minimal`` (FROM
# redhat/ubi9-minimal, adoptium/containers 21/jre/ubi/ubi9-minimal/Dockerfile), maven's and
# gradle's ``-amazoncorretto``/``-corretto`` (Amazon Linux unless ``-debian``), swift's
# ``-amazonlinux2``/``-rhel-ubi9``/``-fedora39``, openjdk's ``-oraclelinux8``, windows ones.
OTHER_OS_TAG = re.compile(
    r"alpine|windows|nanoserver|ubi\d*|oraclelinux|oracle\b|amazonlinux|\bal2|centos|fedora|rhel"
    r"|rocky|corretto(?!.*debian)"
)
# openjdk 12 and later give their bare tags (``openjdk:17``, ``17-jdk``, ``21.0.1``) to the
# Oracle Linux image (docker-library/openjdk generate-stackbrew-library.sh: "version 12+ moves
# latest over to the Oracle-based builds"); only the ``-slim``/``-bullseye``/... ones are Debian.
OPENJDK_DEBIAN_TAG = re.compile(r"^(?:[89]|1[01])\b|slim|bookworm|bullseye|buster|stretch|jessie")


def debian_tag(name: str, tag: str) -> bool:
    """True when the official DEBIAN_BASED (or node) image ``name``'s ``tag`` is Debian or
    Ubuntu: not an alpine, windows or other-OS tag, nor one of openjdk's Oracle Linux tags."""
    tag = tag.lower()
    if OTHER_OS_TAG.search(tag):
        return False
    return name != "openjdk" or bool(OPENJDK_DEBIAN_TAG.search(tag))


# base-passwd's fixed accounts (its master /etc/passwd, copied into every Debian and Ubuntu
# image, -slim variants included) with the same ids everywhere (www-data 33, nobody 65534).
DEBIAN_SYSTEM_USERS = frozenset(
    "daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc nobody".split()
)
# base-passwd's fixed groups (its master /etc/group) by name, with the same ids everywhere.
DEBIAN_SYSTEM_GROUPS = frozenset(
    "root daemon bin sys adm tty disk lp mail news uucp man proxy kmem dialout fax voice cdrom "
    "floppy tape sudo audio dip www-data backup operator list irc src shadow utmp video sasl "
    "plugdev staff games users nogroup".split()
)
# Programs that add, change or remove an account (its id or home may then differ).
ACCOUNT_EDITS = re.compile(
    r"\b(?:user|group)(?:add|mod|del)\b|\b(?:add|del)(?:user|group)\b|/etc/passwd"
)
# Official images that ship a non-root user for apps (image -> uid:gid; node's user is node).
IMAGE_USERS = {"node": "1000:1000"}
# Official service images whose entrypoint or process needs root (and why).
NEEDS_ROOT = {
    "nginx": "nginx's master process writes /var/cache/nginx and /var/run (use nginxinc/nginx-unprivileged)",
    "httpd": "httpd starts as root and drops to www-data itself",
    "tomcat": "tomcat writes logs/, work/ and temp/ under /usr/local/tomcat",
    "postgres": "its entrypoint starts as root and drops privileges with gosu",
    "mysql": "its entrypoint starts as root and drops privileges with gosu",
    "mariadb": "its entrypoint starts as root and drops privileges with gosu",
    "redis": "its entrypoint starts as root and drops privileges with gosu",
    "mongo": "its entrypoint starts as root and drops privileges with gosu",
    "rabbitmq": "its entrypoint starts as root and drops privileges with gosu",
    "cassandra": "its entrypoint starts as root and drops privileges with gosu",
    "couchdb": "its entrypoint starts as root and drops privileges with gosu",
    "wordpress": "apache starts as root and drops to www-data itself",
}  # fmt: skip
# Programs in CMD/ENTRYPOINT (or the script they run) that need root.
# dhcpd opens a raw (LPF) socket: built, as uid 10001 it stopped with "Open a socket for LPF:
# Operation not permitted" where root served (magnitus/isc-dhcp-server's entrypoint.sh)
ROOT_PROGRAMS = frozenset(
    """
    gosu su-exec su sudo setpriv runuser chroot chown chgrp setcap capsh apt-get apt apk dnf
    yum microdnf service sysctl mount iptables ip6tables update-ca-certificates useradd adduser
    usermod groupadd addgroup crond cron sshd dhcpd
    """.split()
)


@dataclass(frozen=True)
class UserSetup:
    """How to run the image as non-root: ``kind`` is user / variant / useradd / adduser / numeric."""

    kind: str
    owner: str  # what COPY --chown and chown take (user:group)
    user: str  # the USER value
    tag: str | None = None  # the distroless variant tag for kind == "variant"


def _distroless_tag(tag: str | None) -> str | None:
    if tag in (None, "latest"):
        return "nonroot"
    if tag == "debug":
        return "debug-nonroot"
    return None


def user_setup(image: ImageRef) -> UserSetup | str:
    """How ``image`` gets a non-root user, or why msdfix cannot tell (a reason)."""
    uid = f"{APP_UID}:{APP_UID}"
    if image.raw == "scratch":
        return UserSetup("numeric", uid, uid)
    name = library_name(image)
    tag = (image.tag or "").lower()
    if name is not None:
        if name in NEEDS_ROOT:
            return NEEDS_ROOT[name]
        if name in IMAGE_USERS:
            return UserSetup("user", IMAGE_USERS[name], IMAGE_USERS[name])
        if name == "alpine" or (name in DEBIAN_BASED and "alpine" in tag):
            return UserSetup("adduser", uid, uid)
        if name in DEBIAN_BASED and debian_tag(name, tag):
            return UserSetup("useradd", uid, uid)
        if name in DEBIAN_BASED:
            return (
                f"{image.raw} is no Debian or Ubuntu tag (openjdk 12+'s plain tags are Oracle "
                "Linux, -ubi* ones Red Hat UBI, corretto ones Amazon Linux): msdfix does not "
                "know it to have useradd"
            )
    if image.full_name.startswith("gcr.io/distroless/"):
        variant = None if image.digest else _distroless_tag(image.tag)
        if variant is None:
            return (
                f"{image.raw} has no :nonroot variant msdfix can name (a digest or an unusual tag)"
            )
        nonroot = f"{DISTROLESS_NONROOT_UID}:{DISTROLESS_NONROOT_UID}"
        return UserSetup("variant", nonroot, DISTROLESS_NONROOT_UID, variant)
    return f"msdfix does not know whether {image.raw} has useradd or adduser: add a USER yourself"


def debian_image(raw: str) -> bool:
    """True when the image reference names an official Debian- or Ubuntu-based image (node's
    and the DEBIAN_BASED ones, not their alpine or windows tags)."""
    ref = parse_image(raw)
    if not ref.on_hub:
        return False
    if ref.name not in DEBIAN_BASED | {"node"}:
        return False
    return debian_tag(ref.name, ref.tag or "")


def create_user_command(setup: UserSetup) -> str:
    """The shell command that creates the app's system user and group with a fixed uid."""
    if setup.kind == "useradd":
        return (
            f"groupadd --system --gid {APP_UID} {APP_NAME} && useradd --system --uid {APP_UID}"
            f" --gid {APP_NAME} --no-log-init --create-home --home-dir /home/{APP_NAME} {APP_NAME}"
        )
    return (
        f"addgroup -S -g {APP_UID} {APP_NAME} && adduser -S -D -u {APP_UID} -G {APP_NAME}"
        f" -h /home/{APP_NAME} {APP_NAME}"
    )
