"""Every vector in spec/vectors/*.json: the same files test/data/envelope.test.ts runs."""

import base64
import copy
import json
from pathlib import Path

import pytest

from switchyard_worker import canonical_envelope, canonical_json, parse_verify_keys, verify_envelope
from switchyard_worker.errors import SwitchyardError
from tests.conftest import TEST_KEYS, VERIFY_KEYS, sign

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
    assert sign(unsigned, entry["key"])["sig"] == envelope["sig"]
    assert verify_envelope(copy.deepcopy(envelope), VERIFY_KEYS) == envelope


@pytest.mark.parametrize("entry", load("tampered"))
def test_tampered_envelopes_are_refused_with_the_verify_keys(entry):
    with pytest.raises(SwitchyardError) as caught:
        verify_envelope(entry["envelope"], VERIFY_KEYS)
    assert caught.value.code == "INVALID_ENVELOPE"
    assert entry["error"] in str(caught.value)


def test_the_verify_list_is_current_and_previous_in_order_and_pem_parses_alike():
    keys = TEST_KEYS["keys"]
    assert VERIFY_KEYS.ids == [keys["current"]["keyId"], keys["previous"]["keyId"]]
    for entry in keys.values():
        assert parse_verify_keys(entry["publicKeyPem"]).ids == [entry["keyId"]]
        url = base64.urlsafe_b64encode(base64.b64decode(entry["publicKey"])).decode().rstrip("=")
        assert parse_verify_keys(f" {url},\n{entry['publicKey']} ").ids == [entry["keyId"]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "lists no key"),
        ("not-a-key!", "entry 1 ('not-a-key!') is not base64"),
        (base64.b64encode(bytes(31)).decode(), "32 bytes, this one is 31"),
        (TEST_KEYS["keys"]["current"]["privateKeyPem"], "PRIVATE KEY block is not a public key"),
    ],
    ids=["empty", "not base64", "31 bytes", "a private key"],
)
def test_verify_keys_that_are_not_keys_are_config_invalid(text, message):
    with pytest.raises(SwitchyardError) as caught:
        parse_verify_keys(text)
    assert caught.value.code == "CONFIG_INVALID"
    assert message in str(caught.value)


@pytest.mark.parametrize("entry", load("canonical"))
def test_canonical_json_matches_byte_for_byte(entry):
    assert canonical_json(entry["value"]) == entry["canonical"]


def test_lone_surrogates_and_non_finite_numbers():
    assert canonical_json({"s": "\ud800x"}) == '{"s":"\\ud800x"}'
    with pytest.raises(SwitchyardError, match=r"value\.n is NaN, which JSON cannot represent"):
        canonical_json({"n": float("nan")})
