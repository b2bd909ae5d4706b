"""The runtime stage's FROM line: platform, distroless tag, working directory, digest pins.

- Platform: the runtime runs where the artefact runs. ``--platform=<value>`` of the build stage
  is repeated on the runtime (and every added stage), except ``$BUILDPLATFORM`` when the build
  cross-compiles for the target (Go with ``GOOS``/``GOARCH`` from ``$TARGETOS``/
  ``$TARGETARCH``, declared with ``ARG`` in the stage, and cgo off): then the runtime takes the
  target platform (no flag), as BuildKit's automatic platform ARGs intend.
- Distroless tag: the images have no version tags, and untagged or ``:latest`` references are
  hadolint findings (DL3006/DL3007). A program that already runs as ``nonroot`` (uid 65532)
  gets ``:nonroot`` (same user; ``WORKDIR /`` is repeated when the original sets none, since
  the image's is /home/nonroot); any other user gets ``:debug`` (root by default like
  ``:latest``, the same files plus busybox in /busybox) with ``ENTRYPOINT []`` when the original
  declares none, so the image's ``/busybox/sh`` entrypoint does not wrap the command.
- Working directory: a build image whose default WORKDIR is not ``/`` (golang: ``/go``) gets
  it repeated in the runtime when the stage never sets an absolute WORKDIR.
- Digest: a build image pinned by digest makes the split display-only: the new images'
  digests are unknown, as slim-base treats digest changes.
- Registry: a Docker Hub runtime (``debian:bookworm-slim``, ``eclipse-temurin:17-jre``) is
  written the way the build image names Hub (``public.ecr.aws/docker/library/debian:...``). A
  build image named through a mirror of Hub or another registry makes a runtime from elsewhere
  (``gcr.io/distroless/...``) unsafe: a build that reaches only that registry cannot pull it. A
  runtime tag written through a pull-through cache of Hub (``mirror.gcr.io``) is unsafe too:
  the cache may lack that tag.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.images import DISTROLESS_NONROOT
from msdfix.model.base_images import DEFAULT_WORKDIR_MODES, DEFAULT_WORKDIRS
from msdfix.model.image import elsewhere, parse_image, respell, uncached
from msdfix.model.paths import within
from msdfix.model.users import is_root
from msdfix.syntax.values import instruction_values
from msdfix.transforms.split_stages.build_stage import Analysis, Plan, final_user, keyword


def runtime_platform(a: Analysis) -> str | None:
    """The ``--platform`` value for the runtime stage (None: the target platform)."""
    value = platform_flag(a.stage.platform)
    if value is None:
        return None
    if re.search(r"\$\{?BUILDPLATFORM\b", value):
        return None if cross_compiles(a) else value
    return value


def platform_flag(value: str | None) -> str | None:
    """The ``--platform`` value a new stage repeats: none for ``$TARGETPLATFORM`` (the default,
    and hadolint's DL3065)."""
    if value is None or re.fullmatch(r"\$\{?TARGETPLATFORM\}?", value.strip("\"'")):
        return None
    return value


def cross_compiles(a: Analysis) -> bool:
    """Every build call targets $TARGETOS/$TARGETARCH, declared in the stage, with cgo off."""
    if a.eco != "go":
        return False
    declared = {
        name.split("=")[0]
        for ins in a.stage.of("arg")
        for name in ins.args.split()
        if ins.start < a.stage.instructions[-1].end
    }
    if not {"TARGETOS", "TARGETARCH"} <= declared and "TARGETPLATFORM" not in declared:
        return False
    builds = [c for c in a.calls if c.program == "go" and c.sub in ("build", "install")]
    if not builds:
        return False
    for call in builds:
        env = dict(a.scope(call.ins))
        env.update(call.command.assignments)
        raw = call.ins.args
        for var, target in (("GOARCH", "TARGETARCH"), ("GOOS", "TARGETOS")):
            if not re.search(rf"\b{var}=[\"']?\$\{{?{target}\b", raw) and target not in env.get(
                var, ""
            ):
                return False
        cgo = env.get("CGO_ENABLED")
        if cgo != "0" and not re.search(r"\bCGO_ENABLED=0\b", raw):
            return False
    return True


def tag_distroless(a: Analysis, plan: Plan) -> None:
    """Give an untagged distroless runtime the tag that keeps the original's user (see above)."""
    if not plan.runtime.startswith("gcr.io/distroless/") or ":" in plan.runtime:
        return
    doc = a.doc
    user = final_user(a)
    if user in DISTROLESS_NONROOT:
        plan.runtime += ":nonroot"
        if not any(w.args.strip().startswith("/") for w in a.stage.of("workdir")):
            plan.head_lines.append(f"{keyword(doc, 'WORKDIR')} /")
        return
    plan.runtime += ":debug"
    if not a.stage.of("entrypoint"):
        plan.head_lines.append(f"{keyword(doc, 'ENTRYPOINT')} []")


def default_workdir(a: Analysis, plan: Plan) -> None:
    """Repeat the build image's default WORKDIR when the stage relies on it. The runtime's
    WORKDIR makes it root's with mode 755: where the build image's has another owner or mode
    and the app runs as non-root or is copied into it, the split is unsafe (built: USER 65534
    wrote to golang's 1777 /go, not to the split's, EACCES; gradle's /home/gradle, the app's
    folder, was gradle's 757, the split's root's 755)."""
    image = a.stage.image.full_name
    default = DEFAULT_WORKDIRS.get(image, "/")
    if default == "/" or any(w.args.strip().startswith("/") for w in a.stage.of("workdir")):
        return
    mode = DEFAULT_WORKDIR_MODES.get(image)
    inside = any(within(plan.moves.get(p, p), default) for p in plan.copies)
    if mode is not None and plan.unsafe is None and (inside or not is_root(final_user(a))):
        plan.unsafe = (
            f"{a.stage.image.raw}'s default WORKDIR {default} is {mode}; the runtime's "
            "WORKDIR makes it root's with mode 755"
        )
    plan.head_lines = [
        line for line in plan.head_lines if not line.lower().startswith("workdir")
    ] + [f"{keyword(a.doc, 'WORKDIR')} {default}"]


def pinned(a: Analysis, plan: Plan) -> None:
    """A digest-pinned build image: the split is only shown (the new images are not pinned)."""
    if a.stage.image.digest:
        plan.display_only = (
            f"{a.stage.image.raw} is pinned by digest; pin {plan.runtime} by digest too, "
            "msdfix cannot know it"
        )


def registry_runtime(a: Analysis, plan: Plan) -> None:
    """Write the runtime through the build image's registry, or say why it may be out of reach
    (see above). Run last: the checks before read the runtime by its familiar name."""
    image, runtime = a.stage.image, parse_image(plan.runtime)
    if runtime.registry is None and runtime.tag and image.on_hub and runtime.on_hub:
        plan.runtime = respell(image, runtime.name, runtime.tag)
    why = uncached(image, plan.runtime) or elsewhere(image, plan.runtime)
    why = why or _named_by_argument(a, plan.runtime)
    if why is not None and plan.unsafe is None:
        plan.unsafe = why


def _named_by_argument(a: Analysis, runtime: str) -> str | None:
    """Why ``runtime`` may be out of reach when a build argument names the build image's
    registry or repository (``${REGISTRY}/golang:1.22``; a tag from one is harmless): its
    default is only the default, ``--build-arg`` may point the build at a registry it alone
    reaches, and the runtime is pulled by its own name (built: with ``REGISTRY`` pointing
    elsewhere the build stage came from there, the runtime still from gcr.io's name)."""
    values = instruction_values(a.stage.from_)[1]
    written = re.sub(r"\$\{[^}]*\}", "$", values[0] if values else "")
    named = parse_image(written)
    if "$" not in f"{named.registry or ''}/{named.repository}":
        return None
    return (
        f"{values[0]} names its registry by a build argument: --build-arg may point it at a "
        f"mirror, and a build that reaches only that cannot pull {runtime}"
    )
