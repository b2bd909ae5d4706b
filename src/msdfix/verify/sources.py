"""What the final image's build takes from the build context, read from the syntax tree.

The stages the final image needs (its parent chain and every stage it copies or mounts from),
their ``COPY``/``ADD`` sources and context bind mounts, the words of their ``RUN``s, the entry
command, and the languages of the build images. ``# escape=``, JSON form and heredocs are
handled by the parser; ``$VAR`` in a source is expanded with the stage's ARG/ENV scope.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from msdfix.ecosystems.registry import ENTRY_PROGRAMS, RUNTIME_IMAGES, ecosystem_of
from msdfix.model import Model, Stage, build_model
from msdfix.model.args import expand
from msdfix.model.config import final_config
from msdfix.model.copies import Source, stage_sources
from msdfix.syntax import Instruction, parse
from msdfix.syntax.values import instruction_values


@dataclass
class BuildSources:
    """Facts about one Dockerfile's final-image build."""

    model: Model
    stages: list[Stage]
    sources: list[Source] = field(default_factory=list)
    run_words: set[str] = field(default_factory=set)
    entry_words: list[str] = field(default_factory=list)
    ecosystems: list[str] = field(default_factory=list)

    def copied_by(self, rel: str) -> Source | None:
        """The first source that brings ``rel`` into the build, if any."""
        return next((s for s in self.sources if s.copies(rel)), None)


def used_stages(model: Model) -> list[Stage]:
    """The final stage and every stage it builds on, copies from or mounts (final first)."""
    final = model.final
    if final is None:
        return []
    seen: list[Stage] = []
    todo = [final]
    while todo:
        stage = todo.pop(0)
        if stage in seen:
            continue
        seen.append(stage)
        if stage.parent is not None:
            todo.append(stage.parent)
        for name in stage.copy_sources():
            dep = model.stage(expand(name, model.global_args))
            if dep is not None and dep.index < stage.index:
                todo.append(dep)
    return seen


def _words(ins: Instruction) -> list[str]:
    _, values, is_json = instruction_values(ins)
    if is_json:
        return values
    try:
        return shlex.split(" ".join(values))
    except ValueError:
        return " ".join(values).split()


def _entry_words(model: Model) -> list[str]:
    config = final_config(model)
    words: list[str] = []
    for key in ("entrypoint", "cmd"):
        if key in config:
            is_json, values = config[key]
            if is_json:
                words += values
            else:
                try:
                    words += shlex.split(" ".join(values))
                except ValueError:
                    words += " ".join(values).split()
    return words


def _ecosystem(stage: Stage) -> str | None:
    name = stage.root_image.full_name.lower()
    return ecosystem_of(name) or RUNTIME_IMAGES.get(name)


def read_build(text: str) -> BuildSources:
    """Parse a Dockerfile and collect what its final image's build uses."""
    model = build_model(parse(text))
    stages = used_stages(model)
    facts = BuildSources(model, stages)
    for stage in sorted(stages, key=lambda s: s.index):
        facts.sources += [source for _, source in stage_sources(stage, model)]
        for ins in stage.of("run"):
            facts.run_words.update(w.removeprefix("./") for w in _words(ins))
    facts.entry_words = _entry_words(model)
    for stage in stages:
        eco = _ecosystem(stage)
        if eco and eco not in facts.ecosystems:
            facts.ecosystems.append(eco)
    program = facts.entry_words[0].rsplit("/", 1)[-1] if facts.entry_words else ""
    # from the start of a run only: "[\d.]+$" scanned from every digit to the end of the run
    # (quadratic in a long run not at the end)
    eco = ENTRY_PROGRAMS.get(re.sub(r"(?<![\d.])[\d.]+$", "", program) or program)
    if eco and eco not in facts.ecosystems:
        facts.ecosystems.append(eco)
    return facts
