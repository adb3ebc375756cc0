"""Evaluation attempts in the agent: the diff kept instead of pushed, and the grade by the case's hidden tests."""
