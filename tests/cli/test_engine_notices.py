"""`bgagent local up` warns when the stack's default engine or an onboarded repository's engine is missing."""

from cli.engines import stack_engine_notices


def test_stack_notices_name_a_missing_default_and_each_repo_needing_a_missing_engine():
    assert stack_engine_notices({}, {"acme/a": "native", "acme/b": "claude-code"}) == []  # this Python has both
    environ = {"BGAGENT_DEFAULT_ENGINE": "claude-code", "BGAGENT_AGENT_ENGINES": '["native"]'}
    notices = stack_engine_notices(environ, {"acme/a": "native", "acme/b": "claude-code"})
    assert [n.split(":")[0] for n in notices] == ["the default engine", "repository acme/b"]
    assert all("pip install 'bgagent[claude-code]'" in n for n in notices)
