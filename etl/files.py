"""File-system moves shared by stages: swapping a finished folder in by renames."""

from __future__ import annotations

import shutil
from pathlib import Path


def replace_folder(staged: Path, target: Path) -> None:
    """Replace target with staged by renames, so a reader sees the old folder or the new, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staged.rename(target)
    if old.exists():
        shutil.rmtree(old)
