"""Evaluation datasets that ship with bgagent."""
