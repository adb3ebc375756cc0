"""Who may run a pr_iteration or pr_review: the user whose task opened the PR, unless the repo allows anyone."""

from __future__ import annotations

from shared.pull_outcomes.store import PullOutcomeStore
from shared.repos.models import RepoConfig


async def may_work_on_pull(outcomes: PullOutcomeStore, repo: RepoConfig, pr_number: int, user_id: str) -> bool:
    """True under `pr_tasks: any_user`, or when a task of this user opened the PR; a PR with no record (a
    human's, or one opened before openers were recorded) belongs to nobody."""
    if repo.pr_tasks == "any_user":
        return True
    opener = await outcomes.opener(repo.repo, pr_number)
    return opener is not None and opener.user_id == user_id


def not_yours(repo: str, pr_number: int) -> str:
    """Why a PR task was refused, in the words every surface shows."""
    return (f"pull request #{pr_number} of {repo} was not opened by one of your tasks; only its opener may "
            "iterate on or review it (the repository's pr_tasks setting is 'owner')")
