"""Federation: three counties, one rewriting its history, one going offline, one publishing on.

The province must record every head, catch the rewrite by its own record (naming the county),
keep the last verified state of the failing members, pull only what changed, and show on its
page exactly the sums and recomputed rates of the members' own snapshot tables.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

from etl import cli, metrics, verify
from etl.config import load_config
from etl.demo import members, synth
from etl.errors import ConfigError
from etl.federation import config as province_config, federate, record
from etl.ledger import tables
from etl.ledger.manifests import MANIFEST, chain, manifest_hash
from etl.site import figures

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "cases" / "federation" / "province.yml"
AS_OF = dt.date(2026, 11, 20)
NAMES = {"jia": "甲县", "yi": "乙县", "bing": "丙县"}


class _Server:
    """The third county's site over loopback HTTP; SimpleHTTPRequestHandler answers
    If-Modified-Since with 304, so conditional requests are seen in `statuses`."""

    def __init__(self, folder: Path):
        statuses = self.statuses = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_response(self, code, message=None):
                statuses.append((self.path, code))
                super().send_response(code, message)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      partial(Handler, directory=str(folder)))
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """One small synthetic campaign's canonical tables; every member is a variation of them."""
    base = tmp_path_factory.mktemp("campaign")
    synth.generate(base / "sources", issues=80, feedback=120)
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = str(base / "sources" / Path(source["path"]).name)
    data["paths"] = {"work_dir": str(base / "work"), "site_dir": str(base / "site"),
                     "snapshots_dir": str(base / "snapshots")}
    (base / "gongshi.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    work = members.base_tables(load_config(base / "gongshi.yml"))
    frames, columns = members.read_frames(work / "tables")
    return {"work": work, "frames": frames, "columns": columns}


def _publish(root: Path, key: str, campaign, as_of=AS_OF, reopen=0.0, finish=0.0) -> Path:
    frames = dict(campaign["frames"])
    frames["issues"] = members.vary(frames["issues"], key, reopen=reopen, finish=finish,
                                    finished_on=as_of)
    return members.publish(root / "members" / key, NAMES[key], as_of, frames,
                           campaign["columns"], campaign["work"])


@pytest.fixture
def province(tmp_path, campaign):
    """The case's province config in tmp_path, its three members published once."""
    for key, share in (("jia", 0.1), ("yi", 0.2), ("bing", 0.3)):
        _publish(tmp_path, key, campaign, reopen=share)
    server = _Server(tmp_path / "members")
    text = CASE.read_text(encoding="utf-8").replace("PORT", str(server.port))
    (tmp_path / "province.yml").write_text(text, encoding="utf-8")
    yield {"root": tmp_path, "config": tmp_path / "province.yml", "server": server}
    server.stop()


def _records(root: Path) -> dict[str, dict]:
    newest = chain(root / "snapshots")[-1]
    return {r["name"]: r for r in json.loads((newest / record.MEMBERS_JSON).read_text("utf-8"))}


def _rewrite_history(root: Path, key: str, campaign) -> None:
    """The county deletes its published chain and publishes other data under the same date:
    a chain valid link by link, which only an outside record can show was rewritten."""
    shutil.rmtree(root / "members" / key)
    _publish(root, key, campaign, reopen=0.5)


def test_three_members_forged_unreachable_valid(province, campaign, capsys):
    root = province["root"]
    # The first run verifies in a worker process, as a real province does.
    first = federate.run(province_config.load(province["config"]).replace(verify_processes=1))
    assert [r["outcome"] for r in first.records] == ["verified"] * 3
    recorded = _records(root)
    for key, name in NAMES.items():
        head = members.newest(root / "members" / key)
        assert recorded[name]["head"]["snapshot_id"] == head.name
        assert recorded[name]["head"]["manifest_sha256"] == manifest_hash(head)
    kept_yi = shutil.copytree(members.newest(root / "members" / "yi"), root / "yi-first" /
                              recorded["乙县"]["head"]["snapshot_id"])

    # Between the federations: 甲县 publishes on, 乙县 rewrites its history, 丙县 goes offline.
    newer = _publish(root, "jia", campaign, as_of=dt.date(2026, 11, 26), finish=0.3)
    _rewrite_history(root, "yi", campaign)
    province["server"].stop()
    capsys.readouterr()
    code = cli.main(["federate", "--config", str(province["config"]), "--as-of", "2026-12-04"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "member 乙县 (members/yi/site)" in err
    assert f"known head {recorded['乙县']['head']['snapshot_id']}" in err
    assert "is not in the chain" in err
    assert "unreachable 丙县" in out and "verified   甲县" in out

    after = _records(root)
    assert after["甲县"]["state"] == "current"
    assert after["甲县"]["head"]["snapshot_id"] == newer.name
    # Rejected and unreachable members keep their last verified head and figures.
    for name in ("乙县", "丙县"):
        assert after[name]["head"] == recorded[name]["head"]
        assert after[name]["figures"] == recorded[name]["figures"]
        assert after[name]["verified_on"] == "2026-11-27"
    assert after["乙县"]["state"] == "rejected" and "not in the chain" in after["乙县"]["problem"]
    assert after["丙县"]["state"] == "unreachable"
    assert str(root) not in json.dumps(after)  # the public record has no local paths

    # Only 甲县's new snapshot was downloaded; its first came from the province's mirror.
    jia = next(line for line in out.splitlines() if line.startswith("verified   甲县"))
    assert "(1 snapshot(s) pulled)" in jia

    # The record is a chain of its own, each manifest naming every member's head.
    ordered = chain(root / "snapshots")
    assert len(ordered) == 2
    problems = []
    verify.check_store(root / "snapshots", problems)
    assert problems == []
    sources = json.loads((ordered[-1] / MANIFEST).read_text("utf-8"))["sources"]
    assert {s["name"]: s["snapshot_id"] for s in sources} == {
        name: after[name]["head"]["snapshot_id"] for name in NAMES.values()}
    assert json.loads((ordered[-1] / MANIFEST).read_text("utf-8"))["previous"] == {
        "snapshot_id": ordered[0].name, "manifest_sha256": manifest_hash(ordered[0])}

    # Every figure on the province page: the sums and recomputed rates of the members' tables,
    # taken from each member's last verified snapshot (乙县's from before its rewrite).
    heads = {"甲县": chain(root / "members" / "jia" / "site" / "data" / "snapshots"),
             "乙县": [kept_yi], "丙县": chain(root / "members" / "bing" / "site" / "data" / "snapshots")}
    _check_page(root / "site", heads)


def _own_figures(snapshot_dirs: list[Path]) -> dict:
    """A member's figures from its own snapshot tables: counts read off the CSV rows, the rest
    (overdue and on-time need first deadlines) re-derived by the metrics stage."""
    head = snapshot_dirs[-1]
    issues = tables.read_table(head / "issues.csv", "issues")
    feedback = tables.read_table(head / "feedback.csv", "feedback")
    derived = metrics.derive(snapshot_dirs)["figures"]
    own = {"issues.total": len(issues), "issues.done": int((issues["status"] == "done").sum()),
           "feedback.total": len(feedback),
           "feedback.replied": int((feedback["replied"] == True).sum())}  # noqa: E712
    for key in ("issues.overdue", "issues.done_on_time", "issues.done_with_deadline",
                "satisfaction.scored", "satisfaction.satisfied"):
        own[key] = derived[key]
    assert own["issues.done"] == derived["issues.done"]
    return own


def _check_page(site: Path, heads: dict[str, list[Path]]) -> None:
    own = {name: _own_figures(dirs) for name, dirs in heads.items()}
    expected = {"province.members": len(own), "province.members_verified": len(own)}
    for key in next(iter(own.values())):
        expected[f"province.{key}"] = sum(values[key] for values in own.values())
    for rate, (top, bottom) in {"rate.completion": ("issues.done", "issues.total"),
                                "rate.on_time": ("issues.done_on_time", "issues.done_with_deadline"),
                                "rate.reply": ("feedback.replied", "feedback.total"),
                                "rate.satisfaction": ("satisfaction.satisfied",
                                                      "satisfaction.scored")}.items():
        expected[f"province.{rate}"] = expected[f"province.{top}"] / expected[f"province.{bottom}"]
        for name, values in own.items():
            values[rate] = values[top] / values[bottom]
    for name, values in own.items():
        expected.update({f"member.{record.slug(name)}.{k}": v for k, v in values.items()})
    spans = verify.figure_spans((site / "index.html").read_text(encoding="utf-8"))
    shown = {key for key, _, _ in spans}
    assert {"province.issues.total", "province.rate.completion", "province.rate.reply",
            "province.rate.satisfaction", "province.issues.overdue"} <= shown
    assert all(f"member.{record.slug(name)}.rate.on_time" in shown for name in own)
    for key, text, line in spans:
        assert key in expected, f"index.html:{line}: unexpected figure {key}"
        assert text == figures.format_figure(key, expected[key]), f"index.html:{line}: {key}"


def test_unchanged_members_are_not_pulled_again(province):
    config = province_config.load(province["config"])
    federate.run(config)
    served = province["server"].statuses
    served.clear()
    again = federate.run(config.replace(as_of=dt.date(2026, 11, 28)))
    assert [r["outcome"] for r in again.records] == ["unchanged"] * 3
    # Two conditional requests for the served member, both answered 304 Not Modified.
    assert [code for _, code in served] == [304, 304]
    assert [path.rsplit("/", 1)[-1] for path, _ in served] == ["latest.json", MANIFEST]
    # Months later with no new publish: still verified, but shown as out of date.
    late = federate.run(config.replace(as_of=dt.date(2027, 2, 1)))
    assert [r["state"] for r in late.records] == ["stale"] * 3
    assert "已核验·数据过期" in (province["root"] / "site" / "index.html").read_text("utf-8")


def test_tampered_member_is_rejected_on_first_sight(province):
    root = province["root"]
    head = members.newest(root / "members" / "jia")
    path = head / "issues.csv"
    path.write_bytes(path.read_bytes().replace(b",done,", b",open,", 1))
    members.set_latest(root / "members" / "yi" / "site", "../../../etc")
    outcome = federate.run(province_config.load(province["config"]))
    jia = outcome.records[0]
    assert jia["outcome"] == "rejected" and jia["state"] == "rejected"
    assert jia["figures"] is None
    assert "members/jia/site/data/snapshots" in jia["problem"]
    assert "issues.csv" in jia["problem"]
    error = federate.failures(outcome)
    assert "member 甲县" in error.message and "member 乙县" in error.message
    yi = outcome.records[1]
    assert yi["outcome"] == "rejected" and "safe folder name" in yi["problem"]
    assert str(root) not in yi["problem"]
    assert outcome.records[2]["outcome"] == "verified"


def test_given_key_requires_a_signed_head(province):
    root = province["root"]
    (root / "jia.pub").write_text("untrusted comment: k\nRWQAAAAAAAAAAAAA\n", encoding="utf-8")
    data = yaml.safe_load(province["config"].read_text(encoding="utf-8"))
    data["members"][0]["public_key"] = "jia.pub"
    province["config"].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    outcome = federate.run(province_config.load(province["config"]))
    assert outcome.records[0]["outcome"] == "rejected"
    assert "the newest snapshot must be signed" in outcome.records[0]["problem"]


def test_config_problems_are_listed_together(tmp_path):
    (tmp_path / "province.yml").write_text(yaml.safe_dump({
        "as_of": "2026-11-27", "colour": "red",
        "members": [{"name": "甲县", "url": "https://a.example/", "path": "a"},
                    {"name": "甲县", "url": "ftp://b.example/"}, {"name": "丙县"}]},
        allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        province_config.load(tmp_path / "province.yml")
    problems = caught.value.problems
    assert any(p.startswith("colour: unknown key") for p in problems)
    assert "members[0].url: give either url (the published site) or path (a local copy of it), " \
           "not both" in problems
    assert "members[1].name: '甲县' is used twice" in problems
    assert "members[1].url: 'ftp://b.example/' must start with http:// or https://" in problems
    assert any(p.startswith("members[2].url: give either") and p.endswith("neither")
               for p in problems)
