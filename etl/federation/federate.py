"""`python -m etl federate`: pull, verify and record every member, then build the province site.

Members are pulled by a bounded pool of threads, each with its own HTTP session; their chains
are verified in a small pool of processes (verification is CPU work: hashing, parsing tables,
re-deriving figures), so fetching and checking overlap. A member that cannot be reached or
fails verification never stops the others: it is reported, and the record keeps its last
verified head and figures. Only then is the province's record written and its site built,
both committed by rename like a county publish.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path

import requests

from etl.errors import EtlError, VerifyFailed
from etl.federation import check, pull, record, site
from etl.federation.config import Member, Province
from etl.ledger.manifests import locked
from etl.read.formats import public_url


@dataclass
class Outcome:
    """What one federation did: every member's record, the record snapshot and the site."""

    records: list[dict]
    snapshot: Path
    site: Path
    lines: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[dict]:
        return [r for r in self.records if r.get("outcome") == "rejected"]


def _site_text(province: Province, member: Member) -> str:
    """How the record names the member's site: its URL, or its path relative to the config."""
    if member.url:
        return public_url(member.url)  # the record is public: no user:password in it
    try:
        return str(member.path.relative_to(province.base_dir))
    except ValueError:
        return str(member.path)


def _state(province: Province, as_of: str) -> str:
    age = (province.as_of - dt.date.fromisoformat(as_of)).days
    return "stale" if age > province.stale_days else "current"


def _member(province: Province, member: Member, recorded: dict | None, verifier) -> dict:
    """Pull, verify and accept one member; its record for this federation, never an exception."""
    base = {"name": member.name, "slug": record.slug(member.name),
            "site": _site_text(province, member)}
    kept = {key: recorded.get(key) for key in ("head", "figures", "verified_on")} \
        if recorded else {"head": None, "figures": None, "verified_on": None}
    folder = Path(province.work_dir) / "members" / base["slug"]
    mirror, staging = folder / "chain", folder / ".incoming"
    head = (recorded or {}).get("head")
    try:
        with requests.Session() as session:
            member_site = pull.MemberSite(member, province, folder / "http-cache", session)
            pulled = pull.pull(member_site, mirror, staging, head)
    except VerifyFailed as error:  # what it serves cannot be a Gongshi chain
        problem = _public(pull.describe(error), member, base["site"])
        return {**base, **kept, "state": "rejected", "problem": problem, "outcome": "rejected",
                "problems": [problem], "candidate": str(staging)}
    except Exception as error:  # noqa: BLE001 - whatever stops a pull, the others go on
        return {**base, **kept, "state": "unreachable", "outcome": "unreachable",
                "problem": _public(pull.describe(error), member, base["site"])}
    if pulled.store is None:
        as_of = (kept["head"] or {}).get("as_of")
        return {**base, **kept, "state": _state(province, as_of), "problem": None,
                "outcome": "unchanged"}
    where = f"the province's record of {member.name}"
    result = verifier(str(pulled.store), str(member.public_key) if member.public_key else None,
                      head, where)
    if not result["ok"]:
        # The record is public and the same on any machine: no local paths in it.
        shown = base["site"].rstrip("/") + "/data/snapshots"
        problems = [p.replace(str(pulled.store), shown) for p in result["problems"]]
        text = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)"
                                          if len(problems) > 3 else "")
        return {**base, **kept, "state": "rejected", "problem": text, "outcome": "rejected",
                "problems": problems,
                "candidate": str(pulled.store)}
    pull.accept(pulled.store, mirror)
    return {**base, "head": {"snapshot_id": result["head"],
                             "manifest_sha256": result["manifest_sha256"],
                             "as_of": result["as_of"]},
            "figures": result["figures"], "verified_on": province.as_of.isoformat(),
            "state": _state(province, result["as_of"]), "problem": None, "outcome": "verified",
            "downloaded": pulled.downloaded}


def _public(text: str, member: Member, site_text: str) -> str:
    """A message for the public record: a local member's folder named as the config names it."""
    return text.replace(str(member.path), site_text) if member.path else text


def _verifier(processes: concurrent.futures.Executor | None):
    if processes is None:
        return check.check
    return lambda *args: processes.submit(check.check, *args).result()


def run(province: Province, log=print) -> Outcome:
    """Federate every member, write the record and the site; returns what happened.

    Raises EtlError only for the province's own problems (its record broken, the build
    failing); members' failures are in the outcome, for the caller to report.
    """
    work_dir = Path(province.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    with locked(work_dir):
        previous = record.previous_members(province.snapshots_dir)
        processes = None
        if province.verify_processes:
            # spawn, not fork: the fetching threads may hold locks a forked child would inherit
            processes = concurrent.futures.ProcessPoolExecutor(
                province.verify_processes, mp_context=multiprocessing.get_context("spawn"))
        try:
            verifier = _verifier(processes)
            with concurrent.futures.ThreadPoolExecutor(province.workers) as threads:
                futures = [threads.submit(_member, province, member, previous.get(member.name),
                                          verifier) for member in province.members]
                results = [future.result() for future in futures]
        finally:
            if processes is not None:
                processes.shutdown()
        records = [{key: value for key, value in r.items()
                    if key not in ("outcome", "problems", "candidate", "downloaded")}
                   for r in results]
        values = record.figures(records)
        staged_record = record.stage(province, records, values)
        staged_site = site.build_site(province, records, values)
        snapshot = record.commit(province, staged_record)
        site.swap_in(staged_site, Path(province.site_dir))
    outcome = Outcome(results, snapshot, Path(province.site_dir))
    for result in results:
        outcome.lines.append(_line(result))
    for line in outcome.lines:
        log(line)
    log(f"province   {province.site_dir} (record {snapshot.name})")
    return outcome


def _line(result: dict) -> str:
    head = (result.get("head") or {}).get("snapshot_id") or "-"
    name = result["name"]
    if result["outcome"] == "verified":
        return (f"verified   {name}: head {head} ({result['downloaded']} snapshot(s) pulled)"
                + (", stale" if result["state"] == "stale" else ""))
    if result["outcome"] == "unchanged":
        return f"unchanged  {name}: head {head}" + (", stale" if result["state"] == "stale" else "")
    kept = f"; showing its last verified head {head}" if result.get("head") else ""
    if result["outcome"] == "unreachable":
        return f"unreachable {name}: {result['problem']}{kept}"
    return f"REJECTED   {name}: {result['problem']}{kept}"


def failures(outcome: Outcome) -> EtlError | None:
    """The error the command ends with when a member failed verification, naming each one."""
    rejected = outcome.rejected
    if not rejected:
        return None
    lines = [f"{len(rejected)} member(s) failed verification; the province kept their last "
             "verified state:"]
    for result in rejected:
        lines.append(f"  - member {result['name']} ({result['site']}):")
        lines += [f"      {problem}" for problem in result["problems"][:10]]
    return VerifyFailed("\n".join(lines),
                        hint="do not trust these members' current data; ask each to restore its "
                             "published history, and compare with the province's record "
                             f"(the pulled copy is under {Path(rejected[0]['candidate']).parent})")
