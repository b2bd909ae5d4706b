"""Read-only views on the syntax tree: stages, ARG scope, COPY graph, build context."""

from msdfix.model.context import BuildContext
from msdfix.model.image import ImageRef, parse_image
from msdfix.model.stages import Model, Stage, build_model

__all__ = ["BuildContext", "ImageRef", "Model", "Stage", "build_model", "parse_image"]
