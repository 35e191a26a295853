"""Permission names are one vocabulary: every constant is granted somewhere, and the
matrix grants nothing that is not a constant."""

from __future__ import annotations

from mercato.kernel.permissions import Permission
from mercato.modules.identity.permissions import KEY_PERMISSIONS, ROLE_PERMISSIONS


def _granted() -> set[str]:
    return {p for grants in [*ROLE_PERMISSIONS.values(), *KEY_PERMISSIONS.values()] for p in grants}


def test_every_permission_is_granted_to_some_role_or_key() -> None:
    assert {str(p) for p in Permission} == _granted()


def test_a_permission_reads_area_colon_action() -> None:
    for permission in Permission:
        area, colon, action = permission.value.partition(":")
        assert colon == ":", permission
        assert permission.name == f"{area}_{action}".upper()
