"""Every vector in spec/vectors/*.json: the same files test/data/envelope.test.ts runs."""

import copy
import json
from pathlib import Path

import pytest

from switchyard_worker import canonical_envelope, canonical_json, sign_envelope, verify_envelope
from switchyard_worker.errors import SwitchyardError

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors"


def load(name):
    entries = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    return [pytest.param(entry, id=entry.get("description", str(i))) for i, entry in enumerate(entries)]


@pytest.mark.parametrize("entry", load("valid"))
def test_valid_envelopes_are_accepted_without_a_key(entry):
    assert verify_envelope(entry["envelope"], None) == entry["envelope"]


@pytest.mark.parametrize("entry", load("invalid"))
def test_invalid_envelopes_are_refused_with_the_typescript_message(entry):
    with pytest.raises(SwitchyardError) as caught:
        verify_envelope(entry["envelope"], None)
    assert caught.value.code == "INVALID_ENVELOPE"
    assert entry["error"] in str(caught.value)
    assert str(caught.value).startswith("invalid envelope: ")


@pytest.mark.parametrize("entry", load("signed"))
def test_signed_envelopes_canonicalise_sign_and_verify(entry):
    envelope = entry["envelope"]
    assert canonical_envelope(envelope) == entry["canonical"]
    unsigned = {**envelope, "sig": ""}
    assert sign_envelope(unsigned, entry["key"])["sig"] == envelope["sig"]
    assert verify_envelope(copy.deepcopy(envelope), entry["key"]) == envelope


@pytest.mark.parametrize("entry", load("tampered"))
def test_tampered_envelopes_are_refused_with_the_key(entry):
    with pytest.raises(SwitchyardError) as caught:
        verify_envelope(entry["envelope"], entry["key"])
    assert caught.value.code == "INVALID_ENVELOPE"
    assert entry["error"] in str(caught.value)


@pytest.mark.parametrize("entry", load("canonical"))
def test_canonical_json_matches_byte_for_byte(entry):
    assert canonical_json(entry["value"]) == entry["canonical"]


def test_lone_surrogates_and_non_finite_numbers():
    assert canonical_json({"s": "\ud800x"}) == '{"s":"\\ud800x"}'
    with pytest.raises(SwitchyardError, match=r"value\.n is NaN, which JSON cannot represent"):
        canonical_json({"n": float("nan")})
