"""The pipeline's order, declared once: every stage of a publish, in the order it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from etl import build, extract, metrics, render, snapshot, transform, validate


@dataclass(frozen=True)
class Stage:
    """One stage of `publish`: its name on the command line and its `run(config) -> Path`."""

    name: str
    run: Callable
    help: str


STAGES: tuple[Stage, ...] = (
    Stage("extract", extract.run, "read every source into raw rows that remember file/sheet/row"),
    Stage("validate", validate.run, "check the rows against the rules and vocabularies"),
    Stage("transform", transform.run, "write the canonical, redacted public tables"),
    Stage("metrics", metrics.run, "compute every figure, series and list the pages show"),
    Stage("snapshot", snapshot.run, "stage the hash-chained snapshot of this publish"),
    Stage("render", render.run, "write the Markdown pages, charts and search index"),
    Stage("build", build.run, "build the static site with MkDocs"),
)

NAMES = tuple(stage.name for stage in STAGES)


def stage(name: str) -> Stage:
    """The stage called `name`."""
    return STAGES[NAMES.index(name)]


def through(name: str) -> tuple[Stage, ...]:
    """The stages up to and including `name`, in order."""
    return STAGES[:NAMES.index(name) + 1]
