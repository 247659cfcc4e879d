"""The webhook signature scheme and the receivers' verification helper (pure functions)."""

from __future__ import annotations

import pytest

from appeals.signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WINDOW_SECONDS,
    SignatureError,
    sign,
    signature,
    verify,
)

NOW = 1_796_000_000.0
BODY = '{"idempotency_key": "appeal-vk-1:4:perm-roads@gorodperm.ru", "text": "Снег вывезен"}'.encode()
SECRETS = {"k1": "first-secret", "k2": "second-secret"}


def test_sign_gives_the_key_id_the_timestamp_and_a_v1_hmac_of_both() -> None:
    headers = sign("k2", "second-secret", BODY, NOW + 0.9)

    assert headers[KEY_ID_HEADER] == "k2"
    assert headers[TIMESTAMP_HEADER] == "1796000000"
    assert headers[SIGNATURE_HEADER] == signature("second-secret", "1796000000", BODY)
    assert headers[SIGNATURE_HEADER].startswith("v1=") and len(headers[SIGNATURE_HEADER]) == 3 + 64


def test_a_known_vector_so_receivers_in_other_languages_can_check_their_code() -> None:
    # printf '%s' '1700000000.{}' | openssl dgst -sha256 -hmac secret
    expected = "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"

    assert signature("secret", "1700000000", b"{}") == f"v1={expected}"


def test_verify_accepts_a_fresh_signature_and_names_the_key() -> None:
    headers = sign("k1", "first-secret", BODY, NOW)

    assert verify(SECRETS, headers, BODY, now=NOW + 10) == "k1"


def test_verify_reads_header_names_in_any_case() -> None:
    headers = {name.lower(): value for name, value in sign("k2", "second-secret", BODY, NOW).items()}

    assert verify(SECRETS, headers, BODY, now=NOW) == "k2"


def test_during_rotation_both_keys_verify() -> None:
    old = sign("k1", "first-secret", BODY, NOW)
    new = sign("k2", "second-secret", BODY, NOW)

    assert [verify(SECRETS, h, BODY, now=NOW) for h in (old, new)] == ["k1", "k2"]


@pytest.mark.parametrize(
    ("age", "reason"),
    [(WINDOW_SECONDS + 1, "stale timestamp"), (-WINDOW_SECONDS - 1, "timestamp in the future")],
    ids=["stale", "future"],
)
def test_a_timestamp_outside_the_window_is_refused(age: float, reason: str) -> None:
    headers = sign("k1", "first-secret", BODY, NOW - age)

    with pytest.raises(SignatureError) as refused:
        verify(SECRETS, headers, BODY, now=NOW)

    assert refused.value.reason == reason


def test_the_edges_of_the_window_are_inside() -> None:
    for age in (WINDOW_SECONDS, -WINDOW_SECONDS):
        assert verify(SECRETS, sign("k1", "first-secret", BODY, NOW - age), BODY, now=NOW) == "k1"


def test_a_custom_window() -> None:
    headers = sign("k1", "first-secret", BODY, NOW - 60)

    with pytest.raises(SignatureError, match="stale timestamp"):
        verify(SECRETS, headers, BODY, now=NOW, window=30)


def test_an_unknown_key_id_is_refused() -> None:
    headers = sign("k9", "first-secret", BODY, NOW)

    with pytest.raises(SignatureError) as refused:
        verify(SECRETS, headers, BODY, now=NOW)

    assert refused.value.reason == "unknown key id"


def test_a_signature_under_another_key_id_is_refused() -> None:
    # Signed with k1's secret but labelled k2: the receiver checks it against k2's secret.
    headers = sign("k1", "first-secret", BODY, NOW) | {KEY_ID_HEADER: "k2"}

    with pytest.raises(SignatureError, match="bad signature"):
        verify(SECRETS, headers, BODY, now=NOW)


def test_a_tampered_body_is_refused() -> None:
    headers = sign("k1", "first-secret", BODY, NOW)
    tampered = BODY.replace("вывезен".encode(), "не вывезен".encode())

    with pytest.raises(SignatureError) as refused:
        verify(SECRETS, headers, tampered, now=NOW)

    assert refused.value.reason == "bad signature"


def test_a_moved_timestamp_is_refused() -> None:
    headers = sign("k1", "first-secret", BODY, NOW - 1000) | {TIMESTAMP_HEADER: str(int(NOW))}

    with pytest.raises(SignatureError, match="bad signature"):
        verify(SECRETS, headers, BODY, now=NOW)


@pytest.mark.parametrize("missing", [KEY_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = sign("k1", "first-secret", BODY, NOW)
    del headers[missing]

    with pytest.raises(SignatureError) as refused:
        verify(SECRETS, headers, BODY, now=NOW)

    assert refused.value.reason == f"missing {missing}"


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        (TIMESTAMP_HEADER, "soon", "timestamp is not unix seconds"),
        (TIMESTAMP_HEADER, "-5", "timestamp is not unix seconds"),
        (TIMESTAMP_HEADER, "١٧٩٦٠٠٠٠٠٠", "timestamp is not unix seconds"),  # Arabic-Indic digits
        (SIGNATURE_HEADER, "sha256=abc", "no v1 signature"),
        (SIGNATURE_HEADER, "v1=ффф", "bad signature"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(header: str, value: str, reason: str) -> None:
    headers = sign("k1", "first-secret", BODY, NOW) | {header: value}

    with pytest.raises(SignatureError) as refused:
        verify(SECRETS, headers, BODY, now=NOW)

    assert refused.value.reason == reason


def test_one_valid_signature_among_several_is_enough() -> None:
    headers = sign("k1", "first-secret", BODY, NOW)
    headers[SIGNATURE_HEADER] = "v1=" + "0" * 64 + ", " + headers[SIGNATURE_HEADER]

    assert verify(SECRETS, headers, BODY, now=NOW) == "k1"


def test_a_key_id_that_cannot_be_a_header_value_is_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="key id"):
        sign("k1\r\nX-Evil: 1", "first-secret", BODY, NOW)
