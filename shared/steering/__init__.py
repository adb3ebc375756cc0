"""Steering a running task: its owner's nudges and the approval requests of gated commands."""
