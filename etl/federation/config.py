"""The province config: its members and where it writes, declared like etl/config.py's options.

Loaded by etl/config_load.py's reader, so unknown keys, types, ranges and relative paths are
checked the same way and every problem is reported at once; the cross-field checks (one of
url or path per member, unique names) are here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from etl import config_load
from etl.config import LANGUAGES, HttpOptions, internal, option, WithPaths
from etl.errors import ConfigError


@dataclass(frozen=True)
class Member:
    """One county (or city) whose published Gongshi site the province reads."""

    name: str = option("", "the member's name on the province pages and in its record; unique",
                       required=True, example="清河县")
    url: str = option("", "the address of the member's published site (the folder holding "
                      "index.html and data/)", example="https://gongshi.qinghe.gov.cn/")
    path: Path | None = option(None, "a local copy of the member's published site, instead of a "
                               "url", relative=True, example="members/qinghe/site")
    public_key: Path | None = option(None, "the member's minisign public key, obtained out of "
                                     "band: its newest snapshot must then be signed with it",
                                     relative=True, example="keys/qinghe.pub")


@dataclass(frozen=True)
class ProvincePaths:
    """Where a federation writes; relative to the config's folder."""

    work_dir: Path = option(Path("build"), "scratch: fetch cache, verified copies of the members' "
                            "chains, the pages before the build", relative=True)
    site_dir: Path = option(Path("site"), "the province site, replaced whole on each federation",
                            relative=True)
    snapshots_dir: Path = option(Path("snapshots"), "the province's own chain of witness "
                                 "records; never cleared", relative=True)


@dataclass(frozen=True)
class Province(WithPaths):
    """The whole validated province config, frozen; paths are absolute."""

    path: Path = internal(Path("province.yml"))
    title: str = option("整改公示汇总", "the province site's title")
    region: str = option("", "the province, city or office federating, shown on every page",
                         example="示例市")
    language: str = option("zh", "site language", choices=LANGUAGES)
    as_of: dt.date = option(dt.date(1970, 1, 1), "the federation date; default "
                            "SOURCE_DATE_EPOCH (`--as-of` overrides both)", required=True,
                            example="2026-11-27")
    site_url: str = option("", "the province site's public address; with it the site gets a "
                           "sitemap and a robots.txt", example="https://gongshi.example.gov.cn/")
    precompress: bool = option(False, "also write a .gz and a .br copy of every text file, for "
                               "hosts that serve them as they are")
    members: tuple[Member, ...] = option((), "the member sites", required=True)
    stale_days: int = option(45, "a member whose newest snapshot is older than this many days "
                             "is shown as stale", minimum=1)
    workers: int = option(8, "members fetched at once", minimum=1, maximum=64)
    verify_processes: int = option(2, "processes verifying members' chains at once; 0 verifies "
                                   "in the fetching threads", minimum=0, maximum=16)
    http: HttpOptions = option(HttpOptions(), "how members' files are fetched (timeouts, "
                               "retries, the size limit of one file)")
    paths: ProvincePaths = option(ProvincePaths(), "where federating writes")

    def replace(self, **changes) -> Province:
        return dataclasses.replace(self, **changes)


def load(path: str | os.PathLike, *, as_of: dt.date | None = None) -> Province:
    """Read and validate a province config; ConfigError lists every problem found."""
    config_path = Path(path).resolve()
    province, problems = config_load.read_config(Province, config_path, as_of=as_of)
    _check_members(province.members, problems)
    if province.site_url and not province.site_url.startswith(("http://", "https://")):
        problems.append(f"site_url: {province.site_url!r} must start with http:// or https://")
    config_load.check_folders(province, {f"members: {m.name}": m.path
                                         for m in province.members if m.path},
                              "federating", problems)
    if problems:
        raise ConfigError(problems, path=str(config_path))
    return province


def _check_members(members: tuple[Member, ...], problems: list[str]) -> None:
    seen: set[str] = set()
    if not members:
        problems.append("members: expected a non-empty list of member sites")
    for index, member in enumerate(members):
        prefix = f"members[{index}]."
        if member.name in seen:
            problems.append(f"{prefix}name: {member.name!r} is used twice")
        seen.add(member.name)
        if bool(member.url) == (member.path is not None):
            problems.append(f"{prefix}url: give either url (the published site) or path (a "
                            "local copy of it), not " + ("both" if member.url else "neither"))
        elif member.url and not member.url.startswith(("http://", "https://")):
            problems.append(f"{prefix}url: {member.url!r} must start with http:// or https://")
        elif member.path is not None and not member.path.is_dir():
            problems.append(f"{prefix}path: {member.path} is not a folder")
        if member.public_key is not None and not member.public_key.is_file():
            problems.append(f"{prefix}public_key: {member.public_key} does not exist")
