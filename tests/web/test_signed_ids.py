"""A validly signed link whose id no row can have (past a column's range, negative, zero) is a bad
link: the usual 400 page, never a 500 from the database driver, on every page a signed id reaches."""

from __future__ import annotations

import httpx
import pytest

from subscribers.tokens import MAX_ID, InvalidToken, LinkSigner, Purpose

# Subscriber ids are 32-bit columns on PostgreSQL; SQLite's integers end at 2^63 - 1; Python's go on.
IMPOSSIBLE_IDS = [0, -1, 2**63, 2**64, -(2**63) - 1, 10**30]

# Every route that takes a signed id: (method, path prefix, purpose).
SIGNED_ROUTES = [
    ("GET", "/confirm/", Purpose.CONFIRM),
    ("POST", "/confirm/", Purpose.CONFIRM),
    ("GET", "/preferences/", Purpose.MANAGE),
    ("POST", "/preferences/", Purpose.MANAGE),
    ("GET", "/unsubscribe/", Purpose.MANAGE),
    ("POST", "/unsubscribe/", Purpose.MANAGE),
    ("GET", "/apply/", Purpose.INVITATION),
    ("GET", "/email/", Purpose.EMAIL_CHANGE),
    ("POST", "/email/", Purpose.EMAIL_CHANGE),
]


@pytest.mark.parametrize("object_id", IMPOSSIBLE_IDS)
def test_the_signer_refuses_ids_no_row_can_have(object_id: int) -> None:
    signer = LinkSigner("test-secret-key-0123456789")
    for purpose in Purpose:
        token = signer.sign(purpose, object_id)
        with pytest.raises(InvalidToken) as refused:
            signer.unsign(purpose, token)
        assert not refused.value.expired


def test_the_largest_id_a_column_holds_still_works() -> None:
    signer = LinkSigner("test-secret-key-0123456789")
    for purpose in (Purpose.CONFIRM, Purpose.MANAGE, Purpose.EMAIL_CHANGE):
        with pytest.raises(InvalidToken):
            signer.unsign(purpose, signer.sign(purpose, 2**31))
    assert signer.unsign(Purpose.MANAGE, signer.sign(Purpose.MANAGE, 2**31 - 1)) == 2**31 - 1
    # Deliveries have 64-bit ids.
    assert signer.unsign(Purpose.INVITATION, signer.sign(Purpose.INVITATION, 2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize(("method", "prefix", "purpose"), SIGNED_ROUTES)
async def test_a_signed_impossible_id_gets_the_bad_link_page(
    client: httpx.AsyncClient, app, method: str, prefix: str, purpose: Purpose
) -> None:
    signer: LinkSigner = app.state.runtime.signer
    # Signed with the service's own key, bypassing the signer's own range check the way an old or
    # hand-made token would.
    serializer = signer._serializers[purpose]
    for object_id in (MAX_ID[purpose] + 1, 2**63, 2**64, -(2**63) - 1):
        token = serializer.dumps(object_id)
        if method == "GET":
            answer = await client.get(prefix + token)
        else:
            answer = await client.post(prefix + token, data={"csrf_token": "x"})
        assert answer.status_code == 400, (object_id, answer.status_code, answer.text[:200])
        assert "does not work" in answer.text
