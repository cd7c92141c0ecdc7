"""Personal data of every kind in tests/cases/privacy/cases.yml is hidden; look-alikes stay."""

from pathlib import Path

import pytest
import yaml

from etl.config import LANGUAGES
from etl.errors import BuildError
from etl.privacy.markers import KINDS, markers
from etl.privacy.redact import find_personal_data, redact_text
from etl.privacy.scan_detectors import Knowledge, find_suspects

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "cases" / "privacy" / "cases.yml")
                       .read_text(encoding="utf-8"))
KNOWN_IDS = frozenset(CASES["known_ids"])
REDACT = [pytest.param(case, id=f"{case['kind']}:{case['text']}") for case in CASES["redact"]]


def test_every_kind_has_cases():
    kinds = {case["kind"] for case in CASES["redact"]}
    assert {"nanp_phone", "hk_phone", "tw_phone", "phone", "ssn", "hk_id", "tw_id", "passport",
            "name"} <= kinds
    assert len(CASES["keep"]) >= 50


@pytest.mark.parametrize("case", REDACT)
def test_is_hidden_alone_and_in_a_sentence(case):
    value = case.get("value", case["text"])
    for text in (case["text"], f"据反映：{case['text']}，请尽快处理。"):
        found = find_personal_data(text, known_ids=KNOWN_IDS)
        assert [(m.kind, m.text) for m in found] == [(case["kind"], value)], text
        assert redact_text(text, known_ids=KNOWN_IDS) == text.replace(value, markers()[case["kind"]])


@pytest.mark.parametrize("case", [c for c in REDACT if c.values[0]["kind"] != "name"])
def test_the_leak_scan_sees_every_number_redaction_hides(case):
    # Its own detectors, not redaction's: a US export's phones passed both before issue 11.
    value = case.get("value", case["text"])
    assert find_suspects(f"<p>{value}</p>", Knowledge(KNOWN_IDS)), value


@pytest.mark.parametrize("text", CASES["keep"])
def test_look_alikes_are_untouched(text):
    assert find_personal_data(text, known_ids=KNOWN_IDS) == []
    assert redact_text(text, known_ids=KNOWN_IDS) == text


@pytest.mark.parametrize("language", LANGUAGES)
def test_markers_exist_in_every_site_language_and_hold_no_data(language):
    words = markers(language)
    assert set(words) == set(KINDS)
    for marker in words.values():
        assert not any(c.isdigit() for c in marker) and "@" not in marker
        assert redact_text(marker) == marker
        assert find_suspects(marker) == []


def test_an_english_site_gets_english_markers():
    text = "Caller at (212) 555-0143, SSN 123-45-6789, e-mail a.b@example.com"
    assert redact_text(text, "en") == ("Caller at [phone number removed], SSN [SSN removed], "
                                       "e-mail [email removed]")
    assert "已隐去" not in redact_text("Complainant: Mary Jones", "en")
    with pytest.raises(BuildError, match="no words for language 'fr'"):
        redact_text("13800138000", "fr")


def test_a_known_id_is_never_hidden_even_in_a_phone_shape():
    # A 311 export whose Unique Key happens to be ten digits shaped like a NANP number.
    assert redact_text("see 2125550143", known_ids=frozenset({"2125550143"})) == "see 2125550143"
    assert redact_text("see 2125550143") == "see [电话已隐去]"
