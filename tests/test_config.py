"""Config: every problem reported at once, each naming its key; dates and paths resolved."""

import datetime as dt

import pytest

from etl.config import load_config
from etl.errors import ConfigError


def test_demo_config_loads():
    config = load_config("site_data/gongshi.yml")
    assert config.as_of == dt.date(2026, 11, 20)
    assert config.satisfaction_threshold == 80
    assert [s.name for s in config.sources] == ["issues", "feedback"]
    assert "owner" not in config.published_fields["issues"]
    assert config.snapshots_dir.name == "snapshots"


def test_collects_every_problem(write_config):
    path = write_config(satisfaction_threshold=180, language="fr", colour="red",
                        status_words={"搁置": "paused"},
                        sources=[{"name": "a", "kind": "ftp", "path": "x.csv"},
                                 {"name": "a", "kind": "http"}])
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    from etl.config import Config
    from etl.config_load import options
    known = ", ".join(sorted(spec.name for spec in options(Config)))
    assert problems == [
        f"colour: unknown key (known: {known})",
        "language: 'fr' is not one of zh, en",
        "satisfaction_threshold: 180.0 is outside 0-100",
        "sources[0].kind: 'ftp' is not one of file, http, open311, open311_xml, csv311",
        "sources[1].name: 'a' is used twice",
        "sources[1].url: required for a http source",
        "status_words.搁置: 'paused' is not one of open, in_progress, done, long_term, rework, "
        "explained, not_adopted, merged, transferred",
    ]


def test_complainant_columns_can_never_be_published(write_config):
    path = write_config(publish={"fields": {"feedback": ["feedback_id", "contact"]}})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "publish.fields.feedback: 'contact' identifies a complainant and is never published" \
        in caught.value.problems


def test_as_of_precedence(write_config, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14
    path = write_config()
    assert load_config(path).as_of == dt.date(2026, 11, 20)
    assert load_config(path, as_of=dt.date(2026, 1, 2)).as_of == dt.date(2026, 1, 2)
    no_date = write_config(as_of=None)
    assert load_config(no_date).as_of == dt.date(2023, 11, 14)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with pytest.raises(ConfigError, match="as_of: required"):
        load_config(no_date)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("title: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_signing_key_and_its_public_half_must_exist(write_config, tmp_path):
    path = write_config(signing={"minisign_key": "keys/minisign.key"})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"signing.minisign_key: {tmp_path / 'keys' / 'minisign.key'} does not exist "
        "(create a key pair with `minisign -G`, or remove the key)"]
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "minisign.key").write_text("secret", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"signing.minisign_key: the public key {tmp_path / 'keys' / 'minisign.pub'} is missing "
        "beside it (the site publishes it so anyone can check the signatures)"]
    (tmp_path / "keys" / "minisign.pub").write_text("public", encoding="utf-8")
    assert load_config(path).minisign_key == tmp_path / "keys" / "minisign.key"


def test_unknown_nested_keys_are_reported_not_ignored(write_config):
    path = write_config(signing={"minisign-key": "k"}, paths={"site": "public"},
                        publish={"field": []},
                        sources=[{"name": "issues", "path": "sources/issues.csv", "colums": {},
                                  "http": {"timeout": 3}}],
                        claims=[{"label": "已整改", "metric": "issues.done", "value": 3,
                                 "soruce": "报告"}])
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    unknown = sorted(p.split(":")[0] for p in caught.value.problems if "unknown key" in p)
    assert unknown == ["claims[0].soruce", "paths.site", "publish.field", "signing.minisign-key",
                       "sources[0].colums", "sources[0].http.timeout"]


def test_as_of_with_a_time_of_day_is_refused(write_config):
    with pytest.raises(ConfigError, match="as_of: 2026-11-20 10:00:00 has a time of day"):
        load_config(write_config(as_of=dt.datetime(2026, 11, 20, 10, 0)))


def test_paths_default_beside_the_config(write_config):
    config = load_config(write_config(paths=None))
    assert config.work_dir == config.base_dir / "build"
    assert config.site_dir == config.base_dir / "site"


@pytest.mark.parametrize("paths, key", [
    ({"site_dir": "."}, "paths.site_dir"),
    ({"site_dir": "snapshots/.."}, "paths.site_dir"),
    ({"work_dir": "..", "site_dir": "site"}, "paths.work_dir"),
    ({"site_dir": "sources"}, "paths.site_dir"),
])
def test_site_and_work_folders_never_hold_what_publishing_must_keep(write_config, paths, key):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(paths=paths))
    assert any(p.startswith(f"{key}: ") and "would hold" in p for p in caught.value.problems)


def test_config_reference_matches_the_declared_options():
    """CONFIG.md is generated from etl/config.py; regenerate it with
    `python -m etl config-reference --write CONFIG.md` after changing an option."""
    from pathlib import Path

    from etl.config_load import reference
    assert (Path(__file__).resolve().parent.parent / "CONFIG.md").read_text(encoding="utf-8") \
        == reference()


def test_every_declared_option_is_in_the_reference_and_known_to_the_loader(write_config):
    import dataclasses

    from etl.config import Config
    from etl.config_load import options, reference
    text = reference()
    for spec in options(Config):
        assert f"| `{spec.name}` |" in text
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(nonsense=1))
    known = caught.value.problems[0].split("known: ")[1].rstrip(")").split(", ")
    assert known == sorted(spec.name for spec in options(Config))
    assert all(f.metadata.get("doc") for f in options(Config))
    assert dataclasses.fields(Config)[0].name == "path"  # the one internal field


def test_config_is_frozen_after_loading():
    import dataclasses
    config = load_config("site_data/gongshi.yml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.title = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sources[0].path = None
    with pytest.raises(TypeError):
        config.status_words["新词"] = "done"
    assert config.replace(site_dir=config.base_dir / "public").site_dir == config.base_dir / "public"
    assert config.site_dir != config.base_dir / "public"
