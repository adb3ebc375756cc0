"""The engines that drive a task's model session (native loop, Claude Code) behind one protocol."""
