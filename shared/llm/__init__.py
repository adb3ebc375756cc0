"""Which models the platform runs, what they cost and when they stop being served."""
