"""The build record (build.json) a snapshot carries: what rebuilding its site needs besides data.

A site is a pure function of its snapshot chain, its config and the Gongshi version (with the
packages it runs on). The snapshot stage writes this record into every snapshot, where the
manifest hashes it into the id like any data file; `verify` reads the newest one back, makes
a config from it and rebuilds the site to compare file by file.

The config is recorded as published, never with a secret: HTTP header values are removed,
URLs go through `formats.public_url`, the signing key is reduced to its public half (the text
of the .pub), the password variable and the machine's paths (work, site and snapshots
folders, the config's own path) are left out. Source paths are relative to the config folder,
so the same campaign built in two folders records the same bytes.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from etl import __version__
from etl.config import Config, Signing
from etl.ledger import manifests
from etl.read.formats import public_url

FILE_NAME = "build.json"
REMOVED = "(removed)"
# Config sections that say where this machine writes, not what the site shows; and the
# removal guard's gate (etl/ledger/removals.py), which decides whether a publish may happen,
# not what it renders (an allowed removal's reason is in the manifest): changing the gate
# must not make a new snapshot of the same data.
MACHINE_ONLY = ("paths", "removals")
PUBLIC_KEY_NAME = "minisign.pub"
CERTIFICATE_NAME = "timestamp-ca.pem"


def installed_packages() -> list[str]:
    """`name==version` of every installed distribution and the Python, sorted: the environment
    a build ran in. Names are normalised (PEP 503), so pip's spellings compare alike."""
    found = {f"python=={platform.python_version()}"}
    for distribution in importlib.metadata.distributions():
        name = (distribution.metadata["Name"] or "").strip()
        if name:
            found.add(f"{_normalise(name)}=={distribution.version}")
    return sorted(found)


def _normalise(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def packages_hash(packages: list[str] | None = None) -> str:
    """SHA-256 over the sorted `name==version` lines, one per line."""
    lines = installed_packages() if packages is None else packages
    return hashlib.sha256("".join(line + "\n" for line in lines).encode("utf-8")).hexdigest()


def warning_count(report) -> int | None:
    """The number of warnings a validate report lists; None when there is no readable report."""
    if not isinstance(report, dict):
        return None
    if isinstance(report.get("warnings"), list):
        return len(report["warnings"])
    if isinstance(report.get("warnings"), int):
        return report["warnings"]
    problems = report.get("problems")
    if isinstance(problems, list):
        return sum(1 for p in problems if isinstance(p, dict) and p.get("level") == "warning")
    return None


def record(config: Config, report=None) -> dict:
    """The build record of a publish with this config and validate report."""
    return {"gongshi": __version__, "packages_sha256": packages_hash(),
            "config": public_config(config), "public_files": _public_files(config),
            "validate_warnings": warning_count(report)}


def _public_files(config: Config) -> dict[str, str]:
    """The text of the public files the site copies from where the config points: the signing
    key's public half, the timestamp authority's certificate."""
    found = {}
    if public_key := manifests.public_key(config):
        found[PUBLIC_KEY_NAME] = public_key.read_bytes().decode("utf-8")
    certificate = getattr(getattr(config, "timestamp", None), "ca_file", None)
    if certificate and Path(certificate).is_file():
        found[CERTIFICATE_NAME] = Path(certificate).read_bytes().decode("utf-8")
    return found


def record_bytes(config: Config, report=None) -> bytes:
    return manifests.canonical_json(record(config, report))


def read(snapshot_dir: Path) -> dict | None:
    """The build record of a snapshot folder; None for a snapshot made before records existed.

    Raises ValueError when the file is there but not a JSON object.
    """
    path = Path(snapshot_dir) / FILE_NAME
    if not path.is_file():
        return None
    value = json.loads(path.read_bytes().decode("utf-8"))
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        raise ValueError(f"{path} is not a build record (an object with a config)")
    return value


def public_config(config: Config) -> dict:
    """The config as plain JSON values, with secrets and machine paths removed."""
    plain = _plain(config, config.base_dir)
    for section in MACHINE_ONLY:
        plain.pop(section, None)
    plain["signing"] = {}  # the public key is recorded beside the config, as its text
    return _without_secrets(plain)


def _without_secrets(value):
    """Every `url` through public_url and every `headers` value removed, wherever they sit."""
    if isinstance(value, list):
        return [_without_secrets(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned = {}
    for key, item in value.items():
        if key == "url" and isinstance(item, str) and item:
            cleaned[key] = public_url(item)
        elif key == "headers" and isinstance(item, dict):
            cleaned[key] = {name: REMOVED for name in item}
        else:
            cleaned[key] = _without_secrets(item)
    return cleaned


def _plain(value, base: Path):
    if dataclasses.is_dataclass(value):
        # Options left at their defaults are not recorded: the rebuild restores them from the
        # declarations, and a new Gongshi option does not change every snapshot's bytes.
        return {f.name: _plain(getattr(value, f.name), base) for f in dataclasses.fields(value)
                if not f.metadata.get("internal") and not _is_default(value, f)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item, base) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item, base) for item in value]
    if isinstance(value, Path):
        return Path(os.path.relpath(value, base)).as_posix() if value.is_absolute() else value.as_posix()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def config_from(build: dict, folder: Path, *, snapshots_dir: Path) -> Config:
    """A config that renders what the record's publish rendered, writing under `folder`.

    Options come back through the frozen dataclasses' own types; the paths are the rebuild's:
    work dir `folder/build`, the snapshots to render from, and the recorded public files written
    to `folder/keys/` (the secret key is never needed to render).
    """
    folder = Path(folder)
    config = _build(Config, build["config"], folder)
    config = dataclasses.replace(config, path=folder / "gongshi.yml")
    config = config.replace(work_dir=folder / "build", site_dir=folder / "site",
                            snapshots_dir=Path(snapshots_dir))
    public_files = build.get("public_files") or {}
    keys = folder / "keys"
    for name, text in public_files.items():
        if name in (PUBLIC_KEY_NAME, CERTIFICATE_NAME):
            keys.mkdir(parents=True, exist_ok=True)
            (keys / name).write_bytes(text.encode("utf-8"))  # byte for byte, line ends too
    if PUBLIC_KEY_NAME in public_files:
        config = config.replace(signing=Signing(minisign_key=keys / "minisign.key"))
    timestamp = getattr(config, "timestamp", None)
    if timestamp is not None:
        config = config.replace(timestamp=dataclasses.replace(
            timestamp, ca_file=keys / CERTIFICATE_NAME if CERTIFICATE_NAME in public_files
            else None))
    return config


def _build(cls, data: dict, base: Path):
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in data and not field.metadata.get("internal"):
            values[field.name] = _value(hints[field.name], data[field.name], base)
    return cls(**values)


def _value(hint, value, base: Path):
    if value is None:
        return None
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in arguments if a is not type(None))
        origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, base)
    if origin is tuple:
        return tuple(_value(arguments[0], item, base) for item in value)
    if origin in (collections.abc.Mapping, dict):
        return MappingProxyType({key: _value(arguments[1], item, base)
                                 for key, item in value.items()})
    if hint is Path:
        return base / value
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if hint is float:
        return float(value)
    return value


def environment_notes(build: dict) -> list[str]:
    """What differs between the record's build environment and this machine, in words."""
    notes = []
    if build.get("gongshi") != __version__:
        notes.append(f"the site was built with gongshi {build.get('gongshi')}, this is "
                     f"gongshi {__version__}")
    if build.get("packages_sha256") != packages_hash():
        notes.append("the installed packages differ from those the site was built with "
                     f"(packages SHA-256 {str(build.get('packages_sha256'))[:12]}…, here "
                     f"{packages_hash()[:12]}…)")
    return notes


def _is_default(value, spec: dataclasses.Field) -> bool:
    current = getattr(value, spec.name)
    if spec.default is not dataclasses.MISSING:
        return current == spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return current == spec.default_factory()
    return False
