"""Evaluation runs: datasets of cases graded by hidden tests."""
