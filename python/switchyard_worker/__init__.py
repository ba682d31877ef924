"""Switchyard's Python pool worker: verifies run envelopes and runs Python graphs from a BullMQ queue.

Public names: canonical_json, verify_envelope, parse_envelope, parse_verify_keys,
canonical_envelope, SwitchyardError. Workers verify envelopes; they never sign one. The worker itself: ``python3 -m switchyard_worker``.
"""

from .canonical import canonical_json, js_number
from .envelope import VerifyKeys, canonical_envelope, parse_envelope, parse_verify_keys, verify_envelope
from .errors import SwitchyardError

__all__ = [
    "SwitchyardError",
    "VerifyKeys",
    "canonical_envelope",
    "canonical_json",
    "js_number",
    "parse_envelope",
    "parse_verify_keys",
    "verify_envelope",
]
