"""Verify: a good site passes; any edit to a snapshot, the chain or a page figure fails it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402
from snapshot_factory import span  # noqa: E402

from etl import metrics, snapshot, verify  # noqa: E402
from etl.site import figures
from etl import pipeline
from etl.ledger import manifests
from etl.errors import VerifyFailed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

I = factory.issue
FIRST = [I("1", "done"), I("2"), I("3", "in_progress")]
SECOND = [I("1", "done"), I("2", "done"), I("3", "in_progress"), I("4")]
FEEDBACK = [{"feedback_id": "f1", "channel": "热线", "replied": True},
            {"feedback_id": "f2", "channel": "热线", "replied": False}]
HOME = ("<html><body><h1>整改公示</h1>"
        f"<p>问题 {span('issues.total', '4')} 条，已完成 {span('issues.done', '2')} 条，"
        f"完成率 {span('rate.completion', '50.0%')}。</p>"
        f"<p>意见 {span('feedback.total', '2')}，答复率 {span('rate.reply', '50.0%')}</p>"
        "</body></html>")
UNIT = '<p><span data-figure="issues.total" class="note gs-figure">\n 4 </span></p>'


@pytest.fixture
def site(tmp_path) -> Path:
    first = factory.publish(factory.make_config(tmp_path, "2026-11-01"), FIRST, FEEDBACK)
    second = factory.publish(factory.make_config(tmp_path, "2026-11-20"), SECOND, FEEDBACK)
    return factory.make_site(tmp_path, [first, second],
                             {"index.html": HOME, "units/u-1/index.html": UNIT})


def _run(site: Path, **kw) -> None:
    verify.run(site, derive=kw.pop("derive", factory.derive),
               format_figure=kw.pop("format_figure", factory.format_figure), **kw)


def _problems(site: Path, **kw) -> list[str]:
    with pytest.raises(VerifyFailed) as caught:
        _run(site, **kw)
    return caught.value.problems


def _snapshots(site: Path) -> list[Path]:
    return sorted((site / "data" / "snapshots").iterdir())


def test_a_good_site_passes(site):
    _run(site)


def test_figure_spans_are_read_with_entities_and_any_attribute_order():
    html = (f'<p>{span("a", "1&#44;234")} <span class="x gs-figure" data-figure="b">5'
            '<span class="unit">%</span></span><span class="gs-other" data-figure="c">9</span></p>')
    assert [(key, text) for key, text, _ in verify.figure_spans(html)] == [("a", "1,234"), ("b", "5%")]


def test_editing_a_past_snapshot_csv_fails(site):
    past = _snapshots(site)[0] / "issues.csv"
    data = bytearray(past.read_bytes())
    data[-2] ^= 0x01  # one byte
    past.write_bytes(bytes(data))
    problems = _problems(site)
    assert any(str(past) in p and "was edited" in p for p in problems), problems


def test_editing_a_past_manifest_breaks_the_chain(site):
    manifest_path = _snapshots(site)[0] / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["row_counts"]["issues"] = 99
    manifest_path.write_bytes(snapshot.canonical_json(manifest))
    problems = _problems(site)
    assert any("broken chain" in p and "older manifest was edited" in p for p in problems), problems


def test_rewriting_a_past_snapshot_consistently_still_breaks_the_chain(site):
    """Editing a CSV and re-hashing its manifest moves the problem to the next link."""
    past = _snapshots(site)[0]
    (past / "issues.csv").write_bytes((past / "issues.csv").read_bytes().replace(b",open", b",done"))
    manifest = snapshot.read_manifest(past)
    data = (past / "issues.csv").read_bytes()
    manifest["files"]["issues.csv"] = {"sha256": snapshot.sha256_hex(data), "bytes": len(data)}
    (past / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    problems = _problems(site)
    assert len(problems) == 3, problems
    assert "snapshot id mismatch" in problems[0] and "older manifest was edited" in problems[2]
    assert problems[1] == (f"{past / 'issues.json'}: issue_id '2' field 'status' is 'open', "
                           "issues.csv gives 'done' (the CSV and JSON were edited apart)")


def _edit_head_title(head: Path) -> None:
    """The reviewer's forgery: a title edited in the newest snapshot's issues.csv and .json, with
    datapackage.json and manifest.json hashes fixed up, so every file hash checks out."""
    for name in ("issues.csv", "issues.json"):
        path = head / name
        path.write_text(path.read_text(encoding="utf-8").replace("问题2", "问题已解决"),
                        encoding="utf-8")
    package = json.loads((head / "datapackage.json").read_text(encoding="utf-8"))
    data = (head / "issues.csv").read_bytes()
    package["resources"][0].update(hash="sha256:" + snapshot.sha256_hex(data), bytes=len(data))
    (head / "datapackage.json").write_bytes(snapshot.canonical_json(package))
    manifest = snapshot.read_manifest(head)
    for name in ("issues.csv", "issues.json", "datapackage.json"):
        data = (head / name).read_bytes()
        manifest["files"][name] = {"sha256": snapshot.sha256_hex(data), "bytes": len(data)}
    (head / "manifest.json").write_bytes(snapshot.canonical_json(manifest))


def test_editing_the_newest_snapshot_with_fixed_up_hashes_fails_on_its_id(site):
    head = _snapshots(site)[1]
    _edit_head_title(head)
    problems = _problems(site)
    assert len(problems) == 1, problems
    assert f"{head / 'manifest.json'}: snapshot id mismatch" in problems[0]
    assert f"named {head.name}" in problems[0]


def test_row_counts_must_match_the_tables(site):
    """Even a forged head renamed to its recomputed id fails if row_counts lie about the data."""
    old_head = _snapshots(site)[1]
    manifest = snapshot.read_manifest(old_head)
    manifest["row_counts"]["issues"] = 3
    new_id = manifests.snapshot_id(manifest)
    manifest["snapshot_id"] = new_id
    head = old_head.rename(old_head.with_name(new_id))
    (head / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    (site / "data" / "latest.json").write_bytes(snapshot.canonical_json({"snapshot_id": new_id}))
    problems = _problems(site)
    assert problems == [
        f"{head / 'issues.csv'}: holds 4 rows, but {new_id}/manifest.json row_counts says 3",
        f"{head / 'issues.json'}: holds 4 rows, but {new_id}/manifest.json row_counts says 3"]


def test_row_counts_read_quoted_line_breaks_as_one_row(tmp_path):
    issues = FIRST + [I("9", title="两行\n标题, 带逗号")]
    folder = factory.publish(factory.make_config(tmp_path, "2026-11-01"), issues, FEEDBACK)
    assert '"两行\n标题, 带逗号"' in (folder / "issues.csv").read_text(encoding="utf-8")
    problems: list[str] = []
    verify._check_row_counts(folder, snapshot.read_manifest(folder), problems)
    assert problems == []


def test_changing_a_figure_on_a_page_fails_and_names_it(site):
    page = site / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        span("rate.completion", "50.0%"), span("rate.completion", "75.0%")), encoding="utf-8")
    assert _problems(site) == [
        "index.html:1: figure 'rate.completion' shows '75.0%', the data gives '50.0%'"]


def test_every_mismatch_is_listed_together(site):
    (site / "units" / "u-1" / "index.html").write_text(
        UNIT.replace(">\n 4 <", ">5<") + span("issues.secret", "1"), encoding="utf-8")
    (site / "data" / "latest.json").write_text('{"snapshot_id": "nope"}', encoding="utf-8")
    problems = _problems(site)
    assert problems == [
        f"{site / 'data' / 'latest.json'}: names nope, but the newest snapshot is "
        f"{_snapshots(site)[1].name}",
        "units/u-1/index.html:1: figure 'issues.total' shows '5', the data gives '4'",
        "units/u-1/index.html:1: figure 'issues.secret' shows '1' but the data has no such figure",
    ]


def test_metrics_json_must_agree_with_the_re_derived_figures(site):
    def derive_more_done(snapshot_dirs):
        result = factory.derive(snapshot_dirs)
        result["figures"]["issues.done"] = 3
        return result

    problems = _problems(site, derive=derive_more_done)
    assert any("metrics.json: figure 'issues.done' is 2, re-derived from the data it is 3" in p
               for p in problems), problems
    assert any("figure 'issues.done' shows '2', the data gives '3'" in p for p in problems)


def test_derive_gets_the_chain_oldest_first(site):
    seen = []

    def derive(snapshot_dirs):
        seen.append([p.name for p in snapshot_dirs])
        return factory.derive(snapshot_dirs)

    _run(site, derive=derive)
    assert seen == [[p.name for p in _snapshots(site)]]


def test_a_crashing_derive_is_reported_not_raised(site):
    def derive(snapshot_dirs):
        raise ValueError("bad row")

    assert any("could not re-derive figures" in p and "bad row" in p for p in _problems(site, derive=derive))


def test_extra_or_missing_files_fail(site):
    newest = _snapshots(site)[1]
    (newest / "notes.txt").write_text("added later")
    (newest / "feedback.json").unlink()
    problems = _problems(site)
    assert any("files not in the manifest: notes.txt" in p for p in problems)
    assert any("feedback.json: listed in the manifest but missing" in p for p in problems)


def test_a_manifest_naming_files_outside_its_folder_fails(site):
    manifest_path = _snapshots(site)[1] / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["../../index.html"] = {"sha256": "0" * 64, "bytes": 1}
    manifest_path.write_bytes(snapshot.canonical_json(manifest))
    assert any("unsafe file name '../../index.html'" in p for p in _problems(site))


def test_a_deleted_snapshot_breaks_the_chain(site):
    shutil.rmtree(_snapshots(site)[0])
    assert any("which is not in" in p for p in _problems(site))


def test_a_site_without_snapshots_fails(tmp_path):
    (tmp_path / "site").mkdir()
    assert any("no snapshots" in p for p in _problems(tmp_path / "site"))


def _sign_site(tmp_path: Path) -> Path:
    if shutil.which("minisign") is None:
        pytest.skip("minisign is not installed (apt-get install minisign)")
    keys = tmp_path / "keys"
    keys.mkdir()
    subprocess.run(["minisign", "-G", "-W", "-p", str(keys / "minisign.pub"), "-s",
                    str(keys / "minisign.key")], check=True, capture_output=True, timeout=60)
    folders = []
    for as_of, issues in (("2026-11-01", FIRST), ("2026-11-20", SECOND)):
        config = factory.make_config(tmp_path, as_of).replace(minisign_key=keys / "minisign.key")
        folders.append(factory.publish(config, issues, FEEDBACK))
    site = factory.make_site(tmp_path, folders, {"index.html": HOME})
    shutil.copy(keys / "minisign.pub", site / "data" / "minisign.pub")
    return site


def test_signed_site_passes_and_a_bad_signature_fails(tmp_path):
    site = _sign_site(tmp_path)
    _run(site)
    first, second = _snapshots(site)
    shutil.copy(first / "manifest.json.minisig", second / "manifest.json.minisig")
    assert any("signature does not verify" in p for p in _problems(site))


def test_signed_site_without_a_public_key_fails(tmp_path):
    site = _sign_site(tmp_path)
    (site / "data" / "minisign.pub").unlink()
    problems = _problems(site)
    assert len(problems) == 1 and "signed snapshots but no public key" in problems[0], problems
    _run(site, public_key=tmp_path / "keys" / "minisign.pub")  # a key from elsewhere checks them


def _other_keys(tmp_path: Path) -> Path:
    keys = tmp_path / "other-keys"
    keys.mkdir()
    subprocess.run(["minisign", "-G", "-W", "-p", str(keys / "minisign.pub"), "-s",
                    str(keys / "minisign.key")], check=True, capture_output=True, timeout=60)
    return keys


def test_a_public_key_given_out_of_band_must_match_the_sites(tmp_path):
    """Someone who re-signs an edited head with their own key and swaps the site's key passes a
    check against the site's key, but not against the key obtained out of band."""
    site = _sign_site(tmp_path)
    trusted = tmp_path / "keys" / "minisign.pub"
    _run(site, public_key=trusted)
    head = _snapshots(site)[1]
    _edit_head_title(head)
    manifest = snapshot.read_manifest(head)
    manifest["snapshot_id"] = manifests.snapshot_id(manifest)
    head = head.rename(head.with_name(manifest["snapshot_id"]))
    (head / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    (site / "data" / "latest.json").write_bytes(
        snapshot.canonical_json({"snapshot_id": head.name}))
    (_snapshots(site)[0] / "manifest.json.minisig").unlink()  # only the newest must be signed
    evil = _other_keys(tmp_path)
    subprocess.run(["minisign", "-S", "-s", str(evil / "minisign.key"), "-m",
                    str(head / "manifest.json")], check=True, capture_output=True, timeout=60)
    shutil.copy(evil / "minisign.pub", site / "data" / "minisign.pub")
    _run(site)  # consistent with the key the site itself carries ...
    problems = _problems(site, public_key=trusted)  # ... but not with the trusted one
    assert any("differs from the public key given with --public-key" in p for p in problems)
    assert any(f"{head.name}/manifest.json.minisig: signature does not verify" in p
               for p in problems), problems


def test_verify_cli_takes_a_public_key(tmp_path, capsys, monkeypatch):
    from etl import cli
    site = _sign_site(tmp_path)
    monkeypatch.setattr(metrics, "derive", factory.derive)  # the site's figures are the stub's
    (site / "index.html").unlink()  # and its page spans use the stub's formatting
    trusted = tmp_path / "keys" / "minisign.pub"
    (site / "data" / "minisign.pub").unlink()
    # The pages are hand-made stand-ins, not a build: nothing to rebuild them from.
    assert cli.main(["verify", str(site), "--no-rebuild"]) == 1
    assert "pass the key with --public-key" in capsys.readouterr().err
    assert cli.main(["verify", str(site), "--no-rebuild", "--public-key", str(trusted)]) == 0
    assert cli.main(["verify", str(site), "--no-rebuild", "--public-key",
                     str(tmp_path / "nope.pub")]) == 1
    assert "nope.pub: the public key given with --public-key does not exist" in \
        capsys.readouterr().err


def test_signed_site_needs_its_newest_snapshot_signed(tmp_path):
    site = _sign_site(tmp_path)
    (_snapshots(site)[1] / "manifest.json.minisig").unlink()
    assert any("the newest snapshot must be signed" in p for p in _problems(site))


def test_error_message_lists_problems_and_what_to_do(site):
    (site / "data" / "latest.json").unlink()
    with pytest.raises(VerifyFailed) as caught:
        _run(site)
    text = caught.value.render()
    assert text.startswith(f"verify found 1 problem(s) in {site}:\n  - ")
    assert "what to do: do not publish this site" in text
    assert caught.value.exit_code == 1


def test_default_derive_and_format_come_from_metrics_and_figures(tmp_path, capsys):
    """With nothing passed (as the CLI does) verify uses etl.metrics.derive and etl.site.figures."""
    from etl import cli

    folders = []
    for as_of, issues in (("2026-11-01", FIRST), ("2026-11-20", SECOND)):
        config = factory.make_config(tmp_path, as_of)
        factory.write_inputs(config, issues, FEEDBACK)
        metrics.run(config)
        snapshot.run(config)
        folders.append(snapshot.commit(config))
    computed = json.loads((folders[-1] / "metrics.json").read_text(encoding="utf-8"))["figures"]
    page = "".join(span(key, figures.format_figure(key, computed[key]))
                   for key in ("issues.total", "issues.done", "rate.completion"))
    site = factory.make_site(tmp_path, folders, {"index.html": page})
    assert cli.main(["verify", str(site), "--no-rebuild"]) == 0  # hand-made page, not a build
    (site / "index.html").write_text(page.replace(">4<", ">5<"), encoding="utf-8")
    assert cli.main(["verify", str(site), "--no-rebuild"]) == 1
    assert "figure 'issues.total' shows '5', the data gives '4'" in capsys.readouterr().err


# ---------------------------------------------------------------- verify by rebuild

AS_OF = dt.date(2026, 11, 20)
EARLIER = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A real published site: a small synthetic campaign, an earlier export then the current one,
    so the changes page compares two snapshots. Tests tamper with copies of it."""
    import yaml
    from etl import cli
    from etl.config import load_config
    from etl.demo import synth

    root = tmp_path_factory.mktemp("campaign")
    synth.generate(root / "sources", issues=40, feedback=90, as_of=AS_OF, history=[EARLIER],
                   history_out=root / "history")
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    config_path = root / "gongshi.yml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    quiet = lambda *a: None  # noqa: E731
    earlier = cli._read_sources_from(load_config(config_path, as_of=EARLIER),
                                     root / "history" / EARLIER.isoformat())
    pipeline.publish(earlier, log=quiet, snapshot_only=True)
    return pipeline.publish(load_config(config_path), log=quiet)


@pytest.fixture
def copy(built, tmp_path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(built, site)
    return site


def _rebuild_problems(site: Path) -> list[str]:
    with pytest.raises(VerifyFailed) as caught:
        pipeline.verify_site(site, rebuild=True)
    return caught.value.problems


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _changed(problems: list[str], name: str) -> str:
    found = [p for p in problems if p.startswith(f"{name}: differs from the rebuild: line ")]
    assert len(found) == 1, problems
    return found[0]


def test_a_published_site_rebuilds_to_the_same_bytes(copy):
    from etl import cli
    assert pipeline.verify_site(copy, rebuild=True) == []  # same machine: no environment notes
    assert cli.main(["verify", str(copy)]) == 0


def test_an_edited_issue_page_is_caught(copy):
    page = sorted(p for p in (copy / "issues").glob("*/*.html") if p.name != "index.html")[0]
    _edit(page, "<td>", "<td>已办结")
    found = _changed(_rebuild_problems(copy), page.relative_to(copy).as_posix())
    assert "the site has '" in found and "已办结" in found


def test_an_edited_list_page_is_caught(copy):
    _edit(copy / "overdue" / "index.html", "</h1>", "（均已整改）</h1>")
    assert "均已整改" in _changed(_rebuild_problems(copy), "overdue/index.html")


def test_an_edited_svg_chart_is_caught(copy):
    chart = sorted((copy / "charts").glob("*.svg"))[0]
    _edit(chart, "<text", '<text opacity="0"')
    assert 'opacity="0"' in _changed(_rebuild_problems(copy), f"charts/{chart.name}")


def test_an_edited_changes_page_is_caught(copy):
    _edit(copy / "changes" / "index.html", "</h1>", "：无变化</h1>")
    assert "无变化" in _changed(_rebuild_problems(copy), "changes/index.html")


def test_an_edited_hash_on_the_data_page_is_caught(copy):
    head = _snapshots(copy)[-1]
    real = manifests.sha256_hex((head / "issues.csv").read_bytes())
    _edit(copy / "data" / "index.html", real, "0" * 64)
    found = _changed(_rebuild_problems(copy), "data/index.html")
    assert "0" * 64 in found and real in found


def test_an_edited_search_shard_is_caught(copy):
    shard = sorted((copy / "search").glob("*.js"))[0]
    _edit(shard, '"', "'")
    _changed(_rebuild_problems(copy), f"search/{shard.name}")


def test_an_added_file_is_caught(copy):
    (copy / "units" / "notice.html").write_text("<p>整改已全部完成</p>", encoding="utf-8")
    assert "units/notice.html: in the site but not made by the rebuild (an added file)" in \
        _rebuild_problems(copy)


def test_a_removed_file_is_caught(copy):
    (copy / "about.html").unlink()
    assert "about.html: made by the rebuild but missing from the site (a removed file)" in \
        _rebuild_problems(copy)


def test_json_that_disagrees_with_the_csv_is_caught(copy):
    """A head whose issues.json says what its CSV does not, re-hashed and renamed to the id its
    manifest hashes to, so hashes, id, chain and row counts all check out."""
    head = _snapshots(copy)[-1]
    records = json.loads((head / "issues.json").read_text(encoding="utf-8"))
    records[0]["status"] = "done" if records[0]["status"] != "done" else "open"
    (head / "issues.json").write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    manifest = snapshot.read_manifest(head)
    data = (head / "issues.json").read_bytes()
    manifest["files"]["issues.json"] = {"sha256": snapshot.sha256_hex(data), "bytes": len(data)}
    manifest["snapshot_id"] = manifests.snapshot_id(manifest)
    head = head.rename(head.with_name(manifest["snapshot_id"]))
    (head / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    (copy / "data" / "latest.json").write_bytes(
        snapshot.canonical_json({"snapshot_id": head.name}))
    problems = _rebuild_problems(copy)
    expected = (f"{head / 'issues.json'}: issue_id {records[0]['issue_id']!r} field 'status' is "
                f"{records[0]['status']!r}, issues.csv gives ")
    assert [p for p in problems if p.startswith(expected)], problems
    # Its hashes, id and chain check out: the CSV/JSON comparison is what catches it.
    assert not [p for p in problems if "was edited" in p or "snapshot id mismatch" in p], problems


def test_a_head_without_a_build_record_cannot_be_rebuilt(copy):
    """As for a snapshot made before Gongshi recorded its builds."""
    head = _snapshots(copy)[-1]
    (head / "build.json").unlink()
    problems: list[str] = []
    assert verify.check_rebuild(copy, _snapshots(copy), pipeline.rebuild_site, problems) == []
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{head / 'build.json'}: missing, so the site cannot be rebuilt")
    assert "--no-rebuild" in problems[0]


def test_another_environment_is_named_beside_the_differences(copy, monkeypatch):
    from etl.ledger import build_record
    monkeypatch.setattr(build_record, "packages_hash", lambda packages=None: "f" * 64)
    notes = pipeline.verify_site(copy, rebuild=True)  # nothing differs: a note, not a failure
    assert len(notes) == 1 and "installed packages differ" in notes[0]
    (copy / "about.html").unlink()
    problems = _rebuild_problems(copy)
    assert "install the versions the site was built with" in problems[-1]


def test_a_snapshots_folder_is_verified_alone(built, tmp_path, capsys):
    from etl import cli
    store = tmp_path / "snapshots"
    shutil.copytree(built.parent / "snapshots", store)
    assert cli.main(["verify", str(store)]) == 0
    assert "CSV/JSON and metrics of its snapshots" in capsys.readouterr().out
    json_path = sorted(store.glob("*/feedback.json"))[0]
    json_path.write_text(json_path.read_text(encoding="utf-8").replace("true", "false", 1),
                         encoding="utf-8")
    assert cli.main(["verify", str(store)]) == 1
    assert f"{json_path}: SHA-256 or size differs" in capsys.readouterr().err


def test_a_site_is_verified_by_its_url(copy, capsys):
    import functools
    import http.server
    import threading
    from etl import cli

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(copy))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        assert cli.main(["verify", url]) == 0
        assert "pages are not fetched" in capsys.readouterr().out
        head = _snapshots(copy)[-1]
        _edit(head / "metrics.json", '"as_of"', '"as_of" ')
        assert cli.main(["verify", url]) == 1
        assert f"{head.name}/metrics.json: SHA-256 or size differs" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()


def test_the_data_page_links_latest_json(built):
    page = (built / "data" / "index.html").read_text(encoding="utf-8")
    assert 'href="latest.json"' in page
