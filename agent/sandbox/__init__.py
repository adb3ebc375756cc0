"""The sandbox: the one boundary every command the model can cause runs inside."""
