"""The engines that drive a task's agent inside its sandbox (claude-code here; the native loop is agent/model_loop)."""
