"""Lossless Dockerfile syntax tree: ``str(parse(text)) == text`` for any valid text."""

from msdfix.syntax.nodes import Dockerfile, Flag, Heredoc, Instruction, Segment, Trivia
from msdfix.syntax.parser import ParseError, parse

__all__ = [
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "ParseError",
    "Segment",
    "Trivia",
    "parse",
]
