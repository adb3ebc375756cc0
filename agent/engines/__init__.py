"""What drives a task's agent: bgagent's own loop, the Claude Code CLI, or (evaluation only) the oracle."""
