"""Task events as words, once: the CLI, the panel and the status comment each add only their formatting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

from shared.steering.display import shown_request

# How a renderer may mark a part: a status name, user or model data, a verdict, an aside, lines below the line.
Role = Literal["", "status", "value", "good", "bad", "warn", "note", "detail"]
TESTS_TAIL_SHOWN = 10  # lines of a failed test command shown under the event (all of them: status --json)
LINE_CHARS = 300  # an event's line at most (the panel cuts there; what is below the line is apart)


@dataclass(frozen=True)
class Part:
    text: str
    role: Role = ""


Words = list[Part]
Meta = Mapping[str, Any]


def money(value: Any) -> str:
    return f"${float(value):.4f}" if isinstance(value, (int, float)) else "–"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verdict(passed: bool | None) -> Part:
    """A test run's outcome as one word (or two)."""
    if passed is None:
        return Part("not run")
    return Part("passed", "good") if passed else Part("failed", "bad")


def _value(value: Any) -> Part:
    return Part(str(value), "value")


def _transition(m: Meta) -> Words:
    note = m.get("note") or m.get("trigger") or m.get("reason")
    before = Part(m["from"], "status") if m.get("from") else Part("(new)")
    return [before, Part(" → "), Part(str(m.get("to")), "status"), *([Part(f" ({note})", "note")] if note else [])]


def _started(m: Meta) -> Words:
    engine = [Part("agent started · engine "), _value(m["engine"]), Part(" · model ")] if m.get("engine") else [
        Part("agent started · model ")]  # events written before engines existed name none
    return [*engine, _value(m.get("model_id")), Part(f" · at most {m.get('max_turns')} turns")]


def _turn(m: Meta) -> Words:
    tools = ", ".join(str(t) for t in m.get("tools") or []) or "no tools"
    return [Part(f"turn {m.get('turn')} · "), _value(tools), Part(f" · {money(m.get('cost_usd'))} so far")]


def _tests(m: Meta) -> Words:
    words = [Part("tests "), verdict(bool(m.get("passed"))), Part(" · "), _value(m.get("command"))]
    if m.get("passed"):
        return words
    tail = "\n".join((m.get("tail") or "").splitlines()[-TESTS_TAIL_SHOWN:])
    return [*words, Part(f" · exit {m.get('exit_code')}"), *([Part(tail, "detail")] if tail else [])]


def _refused(m: Meta) -> Words:
    return [Part("refused", "warn"), Part(": "), _value(m.get("command")), Part(f" ({m.get('reason')})")]


def _pushed(m: Meta) -> Words:
    return [Part(f"pushed {m.get('commit_count')} commit(s) to "), _value(m.get("branch"))]


def _pull_request(m: Meta) -> Words:
    return [Part(f"pull request {m.get('action', '')} · {m.get('url')}")]


def _finished(m: Meta) -> Words:
    error = [Part(" · "), _value(m["error"])] if m.get("error") else []
    return [Part(f"agent finished: {m.get('outcome')} · {plural(m.get('turns') or 0, 'turn')} · "
                 f"{money(m.get('cost_usd'))}"), *error]


def _diff(m: Meta) -> Words:
    return [Part(f"diff stored ({plural(m.get('files') or 0, 'file')}, {m.get('bytes')} bytes) · "),
            _value(m.get("diff_key"))]


def _graded(m: Meta) -> Words:
    grade = str(m.get("grade"))
    role: Role = "good" if grade == "passed" else "warn" if grade == "grader_error" else "bad"
    counts = (f" · {m.get('tests_passed')} passed, {m.get('tests_failed')} failed"
              if m.get("tests_passed") is not None else "")
    words = [Part("graded "), Part(grade, role), Part(f" · reward {m.get('reward')}{counts}")]
    if m.get("error"):
        return [*words, Part(" · "), _value(m["error"])]
    tail = "\n".join((m.get("tail") or "").splitlines()[-TESTS_TAIL_SHOWN:])
    return [*words, *([Part(tail, "detail")] if tail and grade != "passed" else [])]


def _deprecated(m: Meta) -> Words:
    return [Part("warning", "warn"), Part(" "), _value("; ".join(str(w) for w in m.get("warnings") or []))]


def _degraded(m: Meta) -> Words:
    return [Part("issue unavailable, working from the description alone", "warn"), Part(" · "),
            _value(m.get("reason"))]


def _stop_requested(m: Meta) -> Words:
    return [Part("compute stop requested · "), _value(m.get("compute_handle"))]


def _egress(m: Meta) -> Words:
    why = [Part(f" ({m['reason']})")] if m.get("reason") else []
    return [Part(f"network {m.get('verdict')}", "warn" if m.get("verdict") == "refused" else ""), Part(": "),
            _value(f"{m.get('host')}:{m.get('port')}"), *why]


def _limits(m: Meta) -> Words:
    why = [Part(f" ({m['reason']})", "note")] if m.get("reason") else []
    return [Part(f"workspace limited to {m.get('max_mb')} MB and {m.get('max_files')} files by {m.get('mechanism')}"),
            *why]


def _nudge_received(m: Meta) -> Words:
    return [Part("nudge sent: "), _value(str(m.get("message", ""))[:120])]


def _nudge_delivered(m: Meta) -> Words:
    return [Part("nudge read by the agent")]


def _approval_requested(m: Meta) -> Words:
    shown = shown_request(str(m.get("kind", "command")), str(m.get("rule")), str(m.get("command")),
                          limit=LINE_CHARS // 2)  # the line's own cap must not cut the truncation marker off
    return [Part("waiting for approval", "warn"), Part(": "), _value(shown)]


def _decided(verdict_word: str) -> Callable[[Meta], Words]:
    def words(m: Meta) -> Words:
        why = [Part(" · "), _value(m["reason"])] if m.get("reason") else []
        return [Part(f"approval {m.get('approval_id')} {verdict_word} by "), _value(m.get("by")), *why]
    return words


WORDS: dict[str, Callable[[Meta], Words]] = {
    "transition": _transition, "agent.started": _started, "agent.turn": _turn, "agent.tests": _tests,
    "agent.command_refused": _refused, "agent.pushed": _pushed, "agent.pull_request": _pull_request,
    "agent.finished": _finished, "agent.diff": _diff, "agent.graded": _graded, "model.deprecated": _deprecated,
    "hydration.degraded": _degraded,
    "compute.stop_requested": _stop_requested, "sandbox.egress": _egress, "workspace.limits": _limits,
    "nudge.received": _nudge_received, "nudge.delivered": _nudge_delivered,
    "approval.requested": _approval_requested, "approval.approved": _decided("approved"),
    "approval.denied": _decided("denied"), "approval.expired": _decided("expired"),
}


def event_words(event_type: str, metadata: Meta | None) -> Words:
    """The event without its time: 'SUBMITTED → HYDRATING', 'turn 3 · bash · $0.0047 so far' …"""
    m = metadata or {}
    say = WORDS.get(event_type)
    if say is not None:
        return say(m)
    kv = " ".join(f"{k}={v}" for k, v in m.items() if v not in (None, "", [], {}))[:LINE_CHARS]
    return [Part(event_type), Part(f" {kv}" if kv else "", "value")]


def plain(words: Words) -> str:
    """The words as one line of plain text (what lies below the line left out)."""
    return "".join(p.text for p in words if p.role != "detail")
