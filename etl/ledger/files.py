"""File-system moves shared by stages: a finished folder moved or swapped in whole, never half."""

from __future__ import annotations

import shutil
from pathlib import Path

from etl.errors import EtlError


def _sibling(target: Path, suffix: str) -> Path:
    return target.with_name(target.name + suffix)


def stage_beside(folder: Path, target: Path) -> Path:
    """folder itself when it is on target's file system, else a copy of it in a hidden sibling
    of target (`.incoming-<name>`, the original removed): either way one rename finishes the move.

    A rename cannot cross file systems, and a copy straight into target would show half a folder.
    """
    if folder.stat().st_dev == target.parent.stat().st_dev:
        return folder
    incoming = target.with_name(f".incoming-{target.name}")
    if incoming.exists():
        shutil.rmtree(incoming)  # left by an interrupted move
    shutil.copytree(folder, incoming)
    shutil.rmtree(folder)
    return incoming


def replace_folder(staged: Path, target: Path) -> None:
    """Replace target with staged by renames, so a reader sees the old folder or the new, never half.

    The last good folder survives every failure: it is renamed aside (target.old) only once the
    new one sits on the same file system beside it, put back if the final rename fails, and put
    back first thing by the next call if a crash struck between the two renames.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    old = _sibling(target, ".old")
    if old.exists():
        if target.exists():
            shutil.rmtree(old)
        else:
            old.rename(target)  # an earlier swap died between its renames
    incoming = stage_beside(staged, target)
    try:
        if target.exists():
            target.rename(old)
        incoming.rename(target)
    except OSError as error:
        if old.exists() and not target.exists():
            old.rename(target)
        raise EtlError(f"could not move {incoming} to {target}: {error.strerror or error}",
                       hint=f"the previous {target.name} is still in place; check permissions "
                            "and free space, then publish again") from error
    if old.exists():
        shutil.rmtree(old)
