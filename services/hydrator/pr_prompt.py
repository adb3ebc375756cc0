"""The pull request part of a PR task's prompt: what the PR changes and what reviewers said, in a budget."""

from __future__ import annotations

from shared.githost.models import PullContext

_PATCH_LIMIT = 6_000  # characters of one file's diff: enough to see the change, not a vendored blob

REVIEW_INSTRUCTIONS = """You are reviewing this pull request; you must not change, commit or push anything.
Read the code, run the tests if that helps, then end your reply with your review as one JSON block:

```json
{"summary": "what the PR does and your overall assessment",
 "comments": [{"path": "file/in/the/pr.py", "line": 12, "body": "what to change there and why"}]}
```

Comment only on lines the pull request adds or changes (the right side of its diff)."""

ITERATION_INSTRUCTIONS = """You are continuing this pull request: address its review comments and failing checks
(newest feedback first), keep the changes focused on them, and say in your summary which comment each
change answers. The platform commits and pushes to the pull request's branch for you."""


def approx_tokens(text: str) -> int:
    """A cheap, conservative token estimate (about four characters a token)."""
    return (len(text) + 3) // 4


def _feedback(ctx: PullContext) -> list[tuple[str, str]]:
    """Every piece of feedback as (time, text), so the newest can be kept first."""
    items = [(c.created_at or "", f"- Review comment by {c.author} on `{c.path}`"
              f"{f' line {c.line}' if c.line else ''}: {c.body.strip()}\n") for c in ctx.review_comments]
    items += [(r.submitted_at or "", f"- Review by {r.author} ({r.state}): {r.body.strip()}\n")
              for r in ctx.reviews if r.body.strip()]
    items += [(c.created_at or "", f"- Comment by {c.author}: {c.body.strip()}\n") for c in ctx.comments]
    return sorted(items, key=lambda item: item[0], reverse=True)


def review_feedback(ctx: PullContext, *, limit: int = 5, chars: int = 200) -> list[str]:
    """The newest review comments and change requests, short, for the repository's memory."""
    asked = [(c.created_at or "", f"on {c.path}: {c.body.strip()}") for c in ctx.review_comments]
    asked += [(r.submitted_at or "", r.body.strip()) for r in ctx.reviews
              if r.state.upper() == "CHANGES_REQUESTED" and r.body.strip()]
    return [" ".join(text.split())[:chars] for _, text in sorted(asked, reverse=True)[:limit]]


def _fit(lines: list[str], budget: int) -> tuple[list[str], int, int]:
    """As many lines as fit, in order; (kept, dropped, budget left)."""
    kept = []
    for line in lines:
        if approx_tokens(line) > budget:
            break
        kept.append(line)
        budget -= approx_tokens(line)
    return kept, len(lines) - len(kept), budget


def _diff(ctx: PullContext) -> list[str]:
    out = []
    for f in ctx.files:
        patch = f.patch if len(f.patch) <= _PATCH_LIMIT else f.patch[:_PATCH_LIMIT] + "\n… (diff trimmed)"
        out.append(f"#### `{f.path}` ({f.status}, +{f.additions} -{f.deletions})\n```diff\n{patch}\n```\n")
    return out


def pr_section(ctx: PullContext, budget: int, *, review: bool) -> str:
    """The PR's description, newest feedback first, failing checks, then the diff, within `budget` tokens."""
    pr = ctx.pull
    head = (f"## Pull request #{pr.number}: {pr.title}\n\nMerges `{pr.head}` into `{pr.base}`.\n\n"
            f"{pr.body.strip()}\n\n{REVIEW_INSTRUCTIONS if review else ITERATION_INSTRUCTIONS}\n")
    budget -= approx_tokens(head)
    parts = [head]
    checks = [f"- {c.name}: {c.conclusion}. {c.summary.strip()}\n" for c in ctx.failing_checks]
    feedback = [text for _, text in _feedback(ctx)]
    for title, lines in (("Feedback, newest first", feedback), ("Failing checks", checks),
                         ("Changed files", _diff(ctx))):
        if not lines:
            continue
        kept, dropped, budget = _fit(lines, budget - 10)
        note = f"\n({dropped} older or larger item(s) left out to fit the context budget.)\n" if dropped else ""
        parts.append(f"### {title}\n\n" + "".join(kept) + note)
    return "\n".join(parts)
