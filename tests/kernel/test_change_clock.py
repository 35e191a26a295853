"""The change numbers both notification-kept memories (access, event interest) trust."""

from __future__ import annotations

import uuid

from mercato.kernel.listen import ChangeClock


def test_a_load_that_started_before_its_subject_changed_is_not_trusted() -> None:
    clock, tenant, other = ChangeClock(max_subjects=10), uuid.uuid4(), uuid.uuid4()
    start = clock.seq
    clock.changed(other)
    assert clock.unchanged_since(start, tenant)
    clock.changed(tenant)
    assert not clock.unchanged_since(start, tenant)
    assert not clock.unchanged_since(start, other, tenant)
    assert clock.unchanged_since(clock.seq, tenant)


def test_a_reset_refuses_every_load_in_flight() -> None:
    clock, tenant = ChangeClock(max_subjects=10), uuid.uuid4()
    start = clock.seq
    clock.reset()
    assert not clock.unchanged_since(start, tenant)
    assert clock.unchanged_since(clock.seq, tenant)


def test_forgetting_subjects_when_full_refuses_loads_in_flight_instead() -> None:
    clock, tenant = ChangeClock(max_subjects=3), uuid.uuid4()
    clock.changed(tenant)
    start = clock.seq
    for _ in range(3):
        clock.changed(uuid.uuid4())
    assert len(clock.changed_at) <= 3
    assert not clock.unchanged_since(start, uuid.uuid4())  # its change may be forgotten
