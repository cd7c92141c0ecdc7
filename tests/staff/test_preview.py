"""Preview: built beside the live site without touching it, served on loopback, and committed
by `publish --from-preview` only while every hash it recorded still holds."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path

import pytest
import yaml

from etl import cli, pipeline
from etl.config import load_config
from etl.demo import synth
from etl.errors import EtlError
from etl.ledger import diff
from etl.ledger.manifests import chain
from etl.site import serve, words
from etl.staff import preview, summary
from tests.campaigns import tree_digest

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 20)
EARLIER = dt.date(2026, 10, 20)


def campaign(root: Path, language: str = "zh") -> Path:
    """A small campaign with one earlier export; the config reads sources/ (the current one)."""
    synth.generate(root / "sources", issues=40, feedback=90, as_of=AS_OF, history=[EARLIER],
                   history_out=root / "history")
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    data["language"] = language
    path = root / "gongshi.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_preview_then_publish_from_preview(tmp_path, capsys):
    config_path = campaign(tmp_path)
    assert cli.main(["publish", "--config", str(config_path), "--as-of", EARLIER.isoformat(),
                     "--sources-from", str(tmp_path / "history" / EARLIER.isoformat())]) == 0
    site, snapshots = tmp_path / "site", tmp_path / "snapshots"
    live_before = tree_digest(site), tree_digest(snapshots)
    live_id = chain(snapshots)[-1].name
    capsys.readouterr()

    assert cli.main(["preview", "--config", str(config_path), "--no-serve"]) == 0
    printed = capsys.readouterr().out
    # Nothing live moved: the site and every snapshot are byte for byte as before.
    assert (tree_digest(site), tree_digest(snapshots)) == live_before
    config = load_config(config_path)
    preview_config = preview.config_for(config)
    staged = preview.staged_site(preview_config)
    staged_snapshot = next(preview.staged_snapshot_root(preview_config).iterdir())
    assert (staged / "index.html").is_file()

    # What it says would change is what a diff of the live and the previewed snapshot says.
    expected = diff.compare(snapshots / live_id, staged_snapshot)
    assert expected["added"] or expected["status_changes"], "the later export must differ"
    result = json.loads((preview_config.work_dir / summary.FILE_NAME).read_text(encoding="utf-8"))
    assert result["outcome"] == "previewed" and result["live_snapshot"] == live_id
    assert result["issues"] == {"added": len(expected["added"]),
                                "removed": len(expected["removed"]),
                                "changed": expected["counts"]["issues_changed"]}
    assert result["deadline_extensions"] == len(expected["deadline_extensions"])
    text = words.section("staff_summary", "zh")
    assert text["against"].format(live=live_id) in printed
    assert text["issues"].format(**result["issues"]) in printed
    site_words = words.words("zh")
    for kind in summary.LISTED_KINDS:
        if expected.get(kind):
            assert site_words[f"change_{kind}"] in printed
            first = summary._item_text(kind, expected[kind][0])
            assert f"- {first}" in printed
    # One line per stage with its time (this is not a terminal): the log a scheduler keeps.
    for name in (*pipeline.NAMES, "scan", "verify"):
        assert re.search(rf"^{name}\s+\d+\.\d\ds", printed, re.M), name

    # Served on loopback: the pages staff click through are the staged files.
    server = serve.start(staged, port=0)
    try:
        address = serve.url(server)
        assert address.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(address) as response:
            assert response.read() == (staged / "index.html").read_bytes()
    finally:
        server.shutdown()
        server.server_close()

    previewed = tree_digest(staged)
    assert cli.main(["publish", "--from-preview", "--config", str(config_path)]) == 0
    printed = capsys.readouterr().out
    # Exactly the previewed files went live, and the previewed snapshot heads the chain.
    assert tree_digest(site) == previewed
    assert chain(snapshots)[-1].name == staged_snapshot.name
    published = json.loads((config.work_dir / summary.FILE_NAME).read_text(encoding="utf-8"))
    assert published["outcome"] == "published" and published["issues"] == result["issues"]
    assert published["files"]["receipt"] and Path(published["files"]["receipt"]).is_file()
    assert text["heading_publish"].split("{")[0] in printed
    assert cli.main(["verify", str(site)]) == 0  # a rebuild from the snapshots gives these bytes
    # A preview is used once.
    assert cli.main(["publish", "--from-preview", "--config", str(config_path)]) == 2
    assert text["no_preview"].format(folder=preview_config.work_dir) in capsys.readouterr().err


def test_stale_preview_is_refused(tmp_path, capsys):
    config_path = campaign(tmp_path, language="en")
    assert cli.main(["preview", "--config", str(config_path), "--no-serve"]) == 0
    capsys.readouterr()
    config = load_config(config_path)
    text = words.section("staff_summary", "en")
    preview_config = preview.check(config)  # fresh: every hash holds
    issues_file = next((tmp_path / "sources").glob("*.xlsx"))
    original = issues_file.read_bytes()

    issues_file.write_bytes(original + b"\0")  # the export was saved again, differently
    with pytest.raises(EtlError) as stale:
        preview.check(config)
    assert text["stale_source"].format(name="issues", where=issues_file) in stale.value.message
    assert cli.main(["publish", "--from-preview", "--config", str(config_path)]) == 2
    assert "issues" in capsys.readouterr().err
    assert not (tmp_path / "site").exists() and not chain(tmp_path / "snapshots")
    issues_file.write_bytes(original)

    page = preview.staged_site(preview_config) / "index.html"
    page_bytes = page.read_bytes()
    page.write_bytes(page_bytes.replace(b"</body>", b"<p>edited</p></body>"))
    with pytest.raises(EtlError) as touched:
        preview.check(config)
    assert text["stale_files"].format(files="site/index.html") in touched.value.message
    page.write_bytes(page_bytes)

    config_text = config_path.read_text(encoding="utf-8")
    config_path.write_text(config_text + "\n# edited\n", encoding="utf-8")
    with pytest.raises(EtlError) as edited:
        preview.check(config)
    assert text["stale_config"].format(path=config_path.resolve()) in edited.value.message
    config_path.write_text(config_text, encoding="utf-8")

    # Put back as previewed, it is fresh again and goes live as the first publish.
    assert cli.main(["publish", "--from-preview", "--config", str(config_path)]) == 0
    result = json.loads((config.work_dir / summary.FILE_NAME).read_text(encoding="utf-8"))
    assert result["first_publish"] and result["issues"]["added"] == 40
    assert text["first_publish"].format(issues=40, feedback=result["feedback"]["added"]) \
        in capsys.readouterr().out

    # Another publish going live after a preview makes the preview stale too.
    assert cli.main(["preview", "--config", str(config_path), "--no-serve"]) == 0
    assert cli.main(["publish", "--config", str(config_path), "--as-of", "2026-11-21"]) == 0
    with pytest.raises(EtlError) as moved:
        preview.check(config)
    assert "live snapshot" in moved.value.message


def test_preview_port_in_use_is_a_plain_error(tmp_path):
    first = serve.start(tmp_path, port=0)
    try:
        with pytest.raises(EtlError) as busy:
            serve.start(tmp_path, port=first.server_address[1])
        assert "--port" in busy.value.hint
    finally:
        first.shutdown()
        first.server_close()
