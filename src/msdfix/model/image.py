"""Image references: ``[registry/]repository[:tag][@digest]``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; ``raw`` is the text as written."""

    raw: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Repository without the Docker Hub ``library/`` prefix (``node``, ``bitnami/redis``)."""
        repo = self.repository
        if self.registry in (None, "docker.io", "index.docker.io") and repo.startswith("library/"):
            return repo[len("library/") :]
        return repo

    @property
    def full_name(self) -> str:
        """Registry and repository (``gcr.io/distroless/static-debian12``, ``node``)."""
        return f"{self.registry}/{self.name}" if self.registry else self.name


def parse_image(raw: str) -> ImageRef:
    """Split an image reference into its parts (no network, no validation)."""
    rest, _, digest = raw.partition("@")
    registry = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    repo, tag = rest, None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        repo, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(raw, registry, repo, tag or None, digest or None)
