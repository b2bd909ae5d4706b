"""Base images' own ENTRYPOINT: whether CMD runs as it is, or is handed to a script.

Data, not code. With an ENTRYPOINT, CMD is only its arguments; a shell-form CMD hands it
``/bin/sh -c "..."``, an exec-form CMD the program itself, and entrypoint scripts often decide
by their first argument (``redis-server``, ``nginx``, ``postgres`` switch users or run setup
scripts). Images not listed are unknown.
"""

from __future__ import annotations

from enum import Enum

from msdfix.model.base_images import library_name
from msdfix.model.image import ImageRef


class Entrypoint(str, Enum):
    """What a base image does with its CMD."""

    NONE = "none"  # no ENTRYPOINT: CMD is the command
    EXEC_COMMAND = "exec-command"  # a script that runs "$@" as it is when $1 is a command
    UNKNOWN = "unknown"


# Official images without an ENTRYPOINT.
NO_ENTRYPOINT = frozenset(
    """
    python pypy golang rust openjdk amazoncorretto debian ubuntu alpine busybox
    fedora centos rockylinux almalinux oraclelinux amazonlinux ruby perl gcc buildpack-deps
    erlang elixir
    """.split()
)
# Official images whose docker-entrypoint.sh prepends the interpreter only when $1 starts with
# "-" (or, for node, is not a command) and otherwise runs exec "$@"; eclipse-temurin's
# ``ENTRYPOINT ["/__cacert_entrypoint.sh"]`` imports CA certificates when USE_SYSTEM_CA_CERTS
# is set and always ends in exec "$@" (adoptium/containers 21/jre/ubuntu/noble/entrypoint.sh).
EXEC_COMMAND = frozenset({"node", "php", "eclipse-temurin"})
# Other publishers' images without an ENTRYPOINT (image name prefixes).
VENDOR_NO_ENTRYPOINT = (
    "gcr.io/distroless/static",
    "gcr.io/distroless/base",
    "gcr.io/distroless/cc",
    "mcr.microsoft.com/dotnet/runtime-deps",
)


def base_entrypoint(image: ImageRef) -> Entrypoint:
    """What ``image`` does with CMD before any instruction of ours."""
    if image.raw == "scratch":
        return Entrypoint.NONE
    name = library_name(image)
    if name in NO_ENTRYPOINT:
        return Entrypoint.NONE
    if name in EXEC_COMMAND:
        return Entrypoint.EXEC_COMMAND
    if name is None and image.full_name.startswith(VENDOR_NO_ENTRYPOINT):
        return Entrypoint.NONE
    return Entrypoint.UNKNOWN
