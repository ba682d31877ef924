"""Every vector in spec/vectors/*.json: the same files test/data/envelope.test.ts runs."""

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard_worker import canonical_envelope, canonical_json, parse_verify_keys, verify_envelope
from switchyard_worker.envelope import deadline_ms
from switchyard_worker.errors import SwitchyardError
from switchyard_worker.schema_check import linear_validator
from tests.conftest import TEST_KEYS, VERIFY_KEYS, sign

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors"
# RE2 patterns, as the worker runs them: with Python's re, "run_1\n" would fit ^...$.
SCHEMA = linear_validator(json.loads((VECTORS.parent / "envelope.schema.json").read_text(encoding="utf-8")))


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
    # The schema alone refuses all but the few rules it cannot state (schemaValid: true).
    assert SCHEMA.is_valid(entry["envelope"]) is (entry.get("schemaValid") is True)


@pytest.mark.parametrize("entry", load("valid"))
def test_valid_envelopes_fit_the_schema(entry):
    assert SCHEMA.is_valid(entry["envelope"])


def test_a_deadline_in_other_digits_is_no_date_even_before_the_shape_check():
    # redis_source reads the deadline of a job it has not verified yet.
    assert deadline_ms("2026-11-24T09:00:00Z") == 1795510800000
    assert deadline_ms("\u0662\u0660\u0662\u0666-11-24T09:00:00Z") is None


def test_importing_the_graph_helpers_loads_no_jsonschema():
    # The envelope's schema loads on the first envelope, not when a graph imports the package.
    code = "import sys, switchyard_worker.graph; print(sorted(m for m in ('jsonschema', 're2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


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
