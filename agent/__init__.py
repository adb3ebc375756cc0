"""The bgagent agent runtime: one process per task that clones, edits with Claude, tests, pushes and opens a PR."""
