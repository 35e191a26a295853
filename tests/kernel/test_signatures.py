from __future__ import annotations

from mercato.kernel.signatures import sign, verify


def test_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    header = sign("s3cret", b'{"a":1}', timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify("s3cret", header, b'{"a":1}', now=1_700_000_100)
    assert not verify("s3cret", header, b'{"a":2}', now=1_700_000_100)
    assert not verify("other", header, b'{"a":1}', now=1_700_000_100)
    assert not verify("s3cret", header, b'{"a":1}', now=1_700_000_400)  # replayed later
    assert not verify("s3cret", "garbage", b'{"a":1}')
