"""RFC 3161 timestamps, against a local authority the tests set up: kept beside each manifest,
outside the id, and checked by verify against the authority's certificate."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402
from local_tsa import LocalAuthority, make_ca  # noqa: E402

from etl import verify  # noqa: E402
from etl.config import Timestamp, load_config  # noqa: E402
from etl.errors import ConfigError, SnapshotError, VerifyFailed  # noqa: E402
from etl.ledger import manifests, timestamps  # noqa: E402
from etl.ledger.manifests import MANIFEST  # noqa: E402
from etl.ledger.timestamps import TIMESTAMP  # noqa: E402

I = factory.issue
FIRST = [I("1", "done"), I("2")]
SECOND = [I("1", "done"), I("2", "done"), I("3")]


@pytest.fixture
def authority(tmp_path):
    tsa = LocalAuthority(tmp_path / "tsa")
    yield tsa
    tsa.close()


def _config(root: Path, as_of: str, tsa=None, **kw):
    config = factory.make_config(root, as_of, **kw)
    if tsa is not None:
        config = config.replace(timestamp=Timestamp(url=tsa.url, ca_file=tsa.ca_file,
                                                    timeout_seconds=20))
    return config


def _stamped_site(root: Path, tsa) -> Path:
    folders = [factory.publish(_config(root, as_of, tsa), issues)
               for as_of, issues in (("2026-11-01", FIRST), ("2026-11-20", SECOND))]
    site = factory.make_site(root, folders, {"index.html": "<p>ok</p>"})
    timestamps.copy_certificate(_config(root, "2026-11-20", tsa), site / "data")
    return site


def _run(site: Path, **kw) -> None:
    verify.run(site, derive=factory.derive, format_figure=factory.format_figure, **kw)


def _problems(site: Path, **kw) -> list[str]:
    with pytest.raises(VerifyFailed) as caught:
        _run(site, **kw)
    return caught.value.problems


def _folders(site: Path) -> list[Path]:
    return sorted((site / "data" / "snapshots").iterdir())


def test_a_timestamped_site_verifies_and_the_token_is_outside_the_id(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    assert authority.queries == 2
    assert all((folder / TIMESTAMP).is_file() for folder in _folders(site))
    assert (site / "data" / timestamps.SITE_CERTIFICATE).read_bytes() == authority.ca_file.read_bytes()
    _run(site)
    _run(site, tsa_certificate=authority.ca_file)  # the certificate obtained out of band
    for folder in _folders(site):
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        assert TIMESTAMP not in manifest["files"]
        assert manifests.snapshot_id(manifest) == folder.name


def test_another_token_for_the_same_inputs_leaves_the_id_alone(tmp_path, authority):
    first = factory.publish(_config(tmp_path / "a", "2026-11-20", authority), FIRST)
    second = factory.publish(_config(tmp_path / "b", "2026-11-20", authority), FIRST)
    assert first.name == second.name
    assert (first / MANIFEST).read_bytes() == (second / MANIFEST).read_bytes()
    assert (first / TIMESTAMP).read_bytes() != (second / TIMESTAMP).read_bytes()  # nonce, time


def test_a_rerun_keeps_the_committed_token_and_asks_for_none(tmp_path, authority):
    config = _config(tmp_path, "2026-11-20", authority)
    first = factory.publish(config, FIRST)
    token = (first / TIMESTAMP).read_bytes()
    again = factory.publish(config, FIRST)
    assert again == first and (again / TIMESTAMP).read_bytes() == token
    assert authority.queries == 1


def test_a_token_over_another_manifest_fails_naming_the_token(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    older, newer = _folders(site)
    shutil.copyfile(older / TIMESTAMP, newer / TIMESTAMP)
    problems = _problems(site)
    assert any(str(newer / TIMESTAMP) in p and "message imprint" in p for p in problems), problems


def test_an_edited_manifest_fails_its_token(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    newest = _folders(site)[-1]
    manifest = newest / MANIFEST
    manifest.write_bytes(manifest.read_bytes().replace(b'"as_of"', b' "as_of"', 1))
    problems = _problems(site)
    assert any(str(newest / TIMESTAMP) in p and f"{newest.name}/{MANIFEST}" in p
               for p in problems), problems


def test_a_tampered_token_fails_naming_the_file(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    token = _folders(site)[0] / TIMESTAMP
    data = bytearray(token.read_bytes())
    data[-3] ^= 0x01  # inside the signature at the end of the token
    token.write_bytes(bytes(data))
    problems = _problems(site)
    assert [p for p in problems if str(token) in p and "does not check out" in p], problems


def test_a_token_from_another_authority_fails(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    make_ca(tmp_path / "other", name="Gongshi Test TSA CA")  # same name, another key
    other = tmp_path / "other" / "ca.pem"
    problems = _problems(site, tsa_certificate=other)
    assert any("differs from the authority certificate given with --tsa-cert" in p
               for p in problems)
    assert sum("does not check out" in p for p in problems) == 2, problems
    # The site's copy replaced by the other authority's: the tokens still fail.
    shutil.copyfile(other, site / "data" / timestamps.SITE_CERTIFICATE)
    assert sum("does not check out" in p for p in _problems(site)) == 2


def test_tokens_without_a_certificate_fail_and_the_newest_must_be_stamped(tmp_path, authority):
    site = _stamped_site(tmp_path, authority)
    (site / "data" / timestamps.SITE_CERTIFICATE).unlink()
    assert any("no authority certificate" in p for p in _problems(site))
    _run(site, tsa_certificate=authority.ca_file)
    (site / "data" / timestamps.SITE_CERTIFICATE).write_bytes(authority.ca_file.read_bytes())
    newest = _folders(site)[-1]
    (newest / TIMESTAMP).unlink()
    assert any(str(newest / TIMESTAMP) in p and "must be timestamped" in p
               for p in _problems(site))


def test_an_authority_that_fails_or_is_not_the_configured_one_stops_the_snapshot(
        tmp_path, authority):
    factory.write_inputs(_config(tmp_path, "2026-11-20", authority), FIRST)
    authority.fail = True
    with pytest.raises(SnapshotError, match="did not answer"):
        factory.publish(_config(tmp_path, "2026-11-20", authority), FIRST)
    authority.fail = False
    make_ca(tmp_path / "other")
    wrong = _config(tmp_path, "2026-11-20", authority).replace(timestamp=Timestamp(
        url=authority.url, ca_file=tmp_path / "other" / "ca.pem"))
    with pytest.raises(SnapshotError, match="does not check out"):
        factory.publish(wrong, FIRST)
    assert not (tmp_path / "snapshots").exists() or not [
        p for p in (tmp_path / "snapshots").iterdir() if not p.name.startswith(".")]


def test_the_config_needs_the_authority_certificate(write_config, tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(timestamp={"url": "http://127.0.0.1:9/tsr"}))
    assert "timestamp.ca_file: required with timestamp.url" in str(caught.value)
    with pytest.raises(ConfigError, match="timestamp.ca_file: .*missing.pem does not exist"):
        load_config(write_config(timestamp={"url": "http://127.0.0.1:9/tsr",
                                            "ca_file": "missing.pem"}))
    make_ca(tmp_path / "keys")
    config = load_config(write_config(timestamp={"url": "http://127.0.0.1:9/tsr",
                                                 "ca_file": "keys/ca.pem"}))
    assert config.timestamp.ca_file == tmp_path / "keys" / "ca.pem"


@pytest.mark.slow
def test_a_timestamped_publish_verifies_end_to_end(tmp_path, authority, capsys):
    import datetime as dt

    import yaml

    from etl import cli
    from etl.demo import synth

    synth.generate(tmp_path / "sources", issues=60, feedback=150, as_of=dt.date(2026, 11, 20))
    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    data["timestamp"] = {"url": authority.url, "ca_file": str(authority.ca_file)}
    config = tmp_path / "gongshi.yml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cli.main(["publish", "--config", str(config)]) == 0
    site = tmp_path / "site"
    head = json.loads((site / "data" / "latest.json").read_text(encoding="utf-8"))["snapshot_id"]
    assert (site / "data" / "snapshots" / head / TIMESTAMP).is_file()
    assert (site / "data" / timestamps.SITE_CERTIFICATE).read_bytes() == authority.ca_file.read_bytes()
    assert cli.main(["verify", str(site), "--tsa-cert", str(authority.ca_file),
                     "--known-head", head]) == 0
    capsys.readouterr()
    token = site / "data" / "snapshots" / head / TIMESTAMP
    token.write_bytes(token.read_bytes()[:-1] + bytes([token.read_bytes()[-1] ^ 1]))
    assert cli.main(["verify", str(site), "--no-rebuild"]) != 0
    assert str(token) in capsys.readouterr().err
