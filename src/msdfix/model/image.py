"""Image references: ``[registry/]repository[:tag][@digest]``.

Docker Hub is named several ways. distribution/reference's ``ParseNormalizedNamed`` (which
BuildKit's FROM uses) reads ``index.docker.io`` as ``docker.io`` and ``docker.io/node`` as
``docker.io/library/node``, the same as ``node``; ``registry-1.docker.io`` is the host both
resolve to, so its ``owner/name`` repositories are Hub's. ``mirror.gcr.io/library/`` (Google's
cache of Hub) and ``public.ecr.aws/docker/library/`` (Docker's own copy of its official images on
ECR Public) serve Hub's official images. :attr:`ImageRef.name` and :attr:`ImageRef.full_name`
give all of them the familiar name (``node``), so every table keyed by it applies;
:func:`respell` keeps the user's spelling when a rewrite names another tag.
"""

from __future__ import annotations

from dataclasses import dataclass

HUB_HOSTS = ("docker.io", "index.docker.io")
HUB_API_HOST = "registry-1.docker.io"
LIBRARY = "library/"
# Registries whose ``<prefix><name>`` is Docker Hub's official image ``<name>``.
LIBRARY_MIRRORS = ("mirror.gcr.io/library/", "public.ecr.aws/docker/library/")
# Those of them that are pull-through caches: they hold what was pulled through them, so a tag
# Hub has may be missing (jib#2916: ``docker pull mirror.gcr.io/library/busybox`` failed,
# "manifest unknown"; Google documents it as a cache of frequently pulled images).
CACHE_MIRRORS = ("mirror.gcr.io/library/",)


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; ``raw`` is the text as written."""

    raw: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def hub_path(self) -> str | None:
        """The repository's path on Docker Hub (``library/node``, ``bitnami/redis``), or None
        when the image is not Docker Hub's (another registry, or a mirror path not known to
        copy Hub's, or a name from a variable)."""
        repo = self.repository
        if "$" in repo or (self.registry and "$" in self.registry):
            return None
        if self.registry is None or self.registry in HUB_HOSTS:
            return repo if "/" in repo else LIBRARY + repo
        if self.registry == HUB_API_HOST:
            return repo if "/" in repo else None
        for mirror in LIBRARY_MIRRORS:
            rest = f"{self.registry}/{repo}".removeprefix(mirror)
            if rest != f"{self.registry}/{repo}" and "/" not in rest:
                return LIBRARY + rest
        return None

    @property
    def name(self) -> str:
        """Docker Hub's familiar name (``node``, ``bitnami/redis``) for a Hub image, however
        spelled; the repository of another registry's."""
        path = self.hub_path
        if path is None:
            return self.repository
        rest = path.removeprefix(LIBRARY)
        return rest if "/" not in rest else path

    @property
    def full_name(self) -> str:
        """Registry and repository (``gcr.io/distroless/static-debian12``); a Docker Hub
        image's familiar name (``node`` for ``docker.io/library/node``)."""
        if self.hub_path is not None or self.registry is None:
            return self.name
        return f"{self.registry}/{self.repository}"

    @property
    def cache(self) -> str | None:
        """The pull-through cache of Hub the image is named through (``mirror.gcr.io``), where
        another tag of the same image may be missing; None otherwise."""
        path = f"{self.registry}/{self.repository}"
        found = any(path.startswith(c) for c in CACHE_MIRRORS) and self.on_hub
        return self.registry if found else None

    @property
    def on_hub(self) -> bool:
        """True when the image is Docker Hub's (or a verbatim mirror of it)."""
        return self.hub_path is not None


def parse_image(raw: str) -> ImageRef:
    """Split an image reference into its parts (no network, no validation). As Docker's parser,
    a first component with a dot, a colon or capitals (not a variable), or ``localhost``, is a
    registry."""
    rest, _, digest = raw.partition("@")
    registry = None
    first, slash, remainder = rest.partition("/")
    capitals = first != first.lower() and "$" not in first
    if slash and ("." in first or ":" in first or first == "localhost" or capitals):
        registry, rest = first, remainder
    repo, tag = rest, None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        repo, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(raw, registry, repo, tag or None, digest or None)


def respell(image: ImageRef, name: str, tag: str) -> str:
    """``name:tag`` written the way ``image`` names Docker Hub, so a rewrite keeps the user's
    registry (``docker.io/library/node:18`` -> ``docker.io/library/node:18-slim``). A name with
    a registry or namespace of its own, or an image not on Hub, is written as given."""
    familiar = image.name
    base = image.raw.partition("@")[0]
    if image.tag is not None:
        base = base[: -len(image.tag) - 1]
    if not image.on_hub or "/" in name or "/" in familiar or not base.endswith(familiar):
        return f"{name}:{tag}"
    return f"{base[: -len(familiar)]}{name}:{tag}"


def uncached(image: ImageRef, new: str) -> str | None:
    """Why ``new``, a rewrite's image written the way ``image`` is, may be missing: both are
    named through a pull-through cache of Hub (``mirror.gcr.io/library/node:18`` ->
    ``mirror.gcr.io/library/node:18-slim``); None when ``new`` is not."""
    cache = image.cache
    if cache is None or not new.startswith(cache + "/") or new == image.raw:
        return None
    return (
        f"{cache} is a pull-through cache of Docker Hub holding the tags pulled through it: "
        f"{new} may not be there (pull it through once, or name Hub's)"
    )


def source(image: ImageRef) -> str | None:
    """The registry a build pulls ``image`` from: None for Docker Hub however spelled
    (``node``, ``docker.io/library/node``), the mirror's host for a copy of Hub
    (``public.ecr.aws``), else the image's registry."""
    if image.registry is None or (image.on_hub and image.registry not in MIRROR_HOSTS):
        return None
    return image.registry


MIRROR_HOSTS = frozenset(m.partition("/")[0] for m in LIBRARY_MIRRORS)


def elsewhere(image: ImageRef, new: str) -> str | None:
    """Why ``new``, a rewrite's image, may be out of reach of a build of ``image``: ``image``
    comes through a mirror of Hub or another registry and ``new`` from elsewhere (each name is
    pulled from its own registry: a bare one from registry-1.docker.io). None when both come
    from one place, or ``image`` from Hub, which msdfix's rewrites assume reachable."""
    where, other = source(image), source(parse_image(new))
    if where is None or other == where:
        return None
    return (
        f"{image.raw} comes from {where}, {new} from {other or 'Docker Hub'}: a build that "
        f"reaches only {where} cannot pull it (name its copy there)"
    )
