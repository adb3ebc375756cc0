"""The allowed-transition table of the reference design."""

import pytest

from shared.tasks.states import ALLOWED, TERMINAL, can_transition, is_at_or_past
from shared.tasks.states import TaskStatus as S

EXPECTED = {
    (S.SUBMITTED, S.HYDRATING), (S.SUBMITTED, S.QUEUED), (S.SUBMITTED, S.FAILED), (S.SUBMITTED, S.CANCELLED),
    (S.QUEUED, S.HYDRATING), (S.QUEUED, S.FAILED), (S.QUEUED, S.CANCELLED),
    (S.HYDRATING, S.RUNNING), (S.HYDRATING, S.FAILED), (S.HYDRATING, S.CANCELLED),
    (S.RUNNING, S.FINALIZING), (S.RUNNING, S.FAILED), (S.RUNNING, S.TIMED_OUT), (S.RUNNING, S.CANCELLED),
    (S.FINALIZING, S.COMPLETED), (S.FINALIZING, S.FAILED),
    (S.RUNNING, S.AWAITING_APPROVAL),
    (S.AWAITING_APPROVAL, S.RUNNING), (S.AWAITING_APPROVAL, S.TIMED_OUT), (S.AWAITING_APPROVAL, S.CANCELLED),
}


def test_the_table_is_exactly_the_design():
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_terminal_states_are_final(terminal):
    assert all(not can_transition(terminal, target) for target in S)


def test_finalizing_cannot_be_cancelled():
    assert not can_transition(S.FINALIZING, S.CANCELLED)


def test_awaiting_approval_is_left_only_by_a_decision_max_duration_or_cancel():
    assert {t for t in S if can_transition(S.AWAITING_APPROVAL, t)} == {S.RUNNING, S.TIMED_OUT, S.CANCELLED}
    assert not can_transition(S.AWAITING_APPROVAL, S.FINALIZING) and not can_transition(S.AWAITING_APPROVAL, S.FAILED)


def test_at_or_past():
    assert is_at_or_past(S.RUNNING, S.HYDRATING)
    assert is_at_or_past(S.CANCELLED, S.RUNNING)
    assert not is_at_or_past(S.SUBMITTED, S.HYDRATING)
    assert not is_at_or_past(S.RUNNING, S.COMPLETED)
    assert is_at_or_past(S.FAILED, S.COMPLETED)
