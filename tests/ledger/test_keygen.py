"""`python -m etl keygen`: a minisign key pair that publish signs with and verify checks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl import cli, verify  # noqa: E402
from etl.errors import EtlError, VerifyFailed  # noqa: E402
from etl.ledger import keygen  # noqa: E402
from etl.ledger.manifests import SIGNATURE  # noqa: E402


@pytest.fixture(autouse=True)
def _minisign():
    if shutil.which("minisign") is None:
        pytest.skip("minisign is not installed (make system-deps)")


def _signed_site(tmp_path: Path, secret: Path, **signing) -> Path:
    config = factory.make_config(tmp_path, "2026-11-20").replace(minisign_key=secret, **signing)
    folder = factory.publish(config, [factory.issue("1")])
    assert (folder / SIGNATURE).is_file()
    site = factory.make_site(tmp_path, [folder], {"index.html": "<p>x</p>"})
    shutil.copyfile(secret.with_suffix(".pub"), site / "data" / "minisign.pub")
    return site


def _verify(site: Path, **kw) -> None:
    verify.run(site, derive=factory.derive, format_figure=factory.format_figure, **kw)


def test_keygen_makes_a_pair_that_signs_and_verifies_and_says_where_it_goes(tmp_path, capsys):
    assert cli.main(["keygen", "--out", str(tmp_path / "keys")]) == 0
    out = capsys.readouterr().out
    secret, public = tmp_path / "keys" / "minisign.key", tmp_path / "keys" / "minisign.pub"
    assert secret.stat().st_mode & 0o077 == 0
    key_line = public.read_text(encoding="utf-8").splitlines()[1]
    assert f"signing:\n  minisign_key: {secret}\n" in out
    assert f"  {key_line}\n" in out and "--public-key" in out and "公文" in out
    site = _signed_site(tmp_path, secret)
    _verify(site, public_key=public)
    # A key made elsewhere does not check these signatures.
    keygen.generate(tmp_path / "other")
    with pytest.raises(VerifyFailed, match="does not verify"):
        _verify(site, public_key=tmp_path / "other" / "minisign.pub")


def test_keygen_never_replaces_a_key(tmp_path, capsys):
    secret, _ = keygen.generate(tmp_path / "keys")
    before = secret.read_bytes()
    with pytest.raises(EtlError, match="never replaces a key"):
        keygen.generate(tmp_path / "keys")
    assert cli.main(["keygen", "--out", str(tmp_path / "keys")]) != 0
    assert "already exist" in capsys.readouterr().err
    assert secret.read_bytes() == before


def test_a_password_protected_key_signs_with_the_same_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGSHI_TEST_KEY_PASSWORD", "s3cret-口令")
    secret, public = keygen.generate(tmp_path / "keys", "GONGSHI_TEST_KEY_PASSWORD")
    assert "password_env: GONGSHI_TEST_KEY_PASSWORD" in keygen.instructions(
        secret, public, "GONGSHI_TEST_KEY_PASSWORD")
    site = _signed_site(tmp_path, secret, minisign_password_env="GONGSHI_TEST_KEY_PASSWORD")
    _verify(site, public_key=public)
    monkeypatch.setenv("GONGSHI_EMPTY", "")
    with pytest.raises(EtlError, match="GONGSHI_EMPTY is empty"):
        keygen.generate(tmp_path / "more", "GONGSHI_EMPTY")
