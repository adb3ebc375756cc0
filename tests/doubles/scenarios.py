"""Built-in scripted model scenarios for FakeAnthropic, selected by the request's model name."""

from __future__ import annotations

import json

from tests.doubles.fake_anthropic import FakeAnthropic, Turn

FAKE_EDIT = "fake-edit"
FAKE_ERROR = "fake-error"
FAKE_429_THEN_EDIT = "fake-429-then-edit"
FAKE_NOOP = "fake-noop"
FAKE_LOOP = "fake-loop"
FAKE_NOT_FOUND = "fake-not-found"
FAKE_GATED = "fake-gated"
FAKE_SLOW = "fake-slow"
FAKE_ITERATE = "fake-iterate"
FAKE_REVIEW = "fake-review"
FAKE_EVAL = "fake-eval"
EVAL_IDLE_TEXT = "Nothing to change."
DEFAULT_MODELS = (FAKE_EDIT, FAKE_ERROR, FAKE_429_THEN_EDIT, FAKE_NOOP, FAKE_LOOP, FAKE_NOT_FOUND,
                  FAKE_GATED, FAKE_SLOW, FAKE_ITERATE, FAKE_REVIEW, FAKE_EVAL)
# The fake models are not in the model catalog: test stacks price them as an operator would (model_prices).
FAKE_MODEL_PRICE = {"input": 3.0, "output": 15.0}

EDIT_NOTES_PATH = "NOTES.md"
EDIT_NOTES_TEXT = "Edited by the bgagent fake model.\n"
EDIT_FINAL_TEXT = "I created NOTES.md describing the change."
ERROR_MESSAGE = "prompt is too long: fake rejection"
NOOP_TEXT = "Nothing to change."
NOT_FOUND_MESSAGE = f"model: {FAKE_NOT_FOUND}"
# fake-gated: one command that a rule on "pip install" holds back, harmless if it runs.
GATED_COMMAND = "echo gated-command-ran # pip install requests"
GATED_OUTPUT = "gated-command-ran"
GATED_REASON = "I need the requests library to call the API."
SLOW_STEPS = 8
ITERATE_PATH = "CHANGES.md"
ITERATE_TEXT = "Answered the review.\n"
ITERATE_FINAL_TEXT = "I added CHANGES.md as the reviewer asked."
REVIEW_SUMMARY = "The notes file is fine; one wording nit."
REVIEW_COMMENT = {"path": EDIT_NOTES_PATH, "line": 1, "body": "Say who the notes are for."}
# Far beyond any sane turn cap; past the script the fake would answer end_turn "Done.".
LOOP_TURNS = 1000


def edit_turns() -> list[Turn]:
    """The fake-edit script: look around, read README.md, create NOTES.md, check it, finish."""
    # Paths are relative to the repository root; the agent resolves them in its workspace.
    return [
        Turn.tool_use("bash", {"command": "ls -la && git log --oneline -n 5"},
                      text="Let me look at the repository first."),
        Turn.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "README.md"},
                      text="I'll read the README."),
        Turn.tool_use("str_replace_based_edit_tool",
                      {"command": "create", "path": EDIT_NOTES_PATH, "file_text": EDIT_NOTES_TEXT},
                      text="Now I'll add the notes file."),
        Turn.tool_use("bash", {"command": f"cat {EDIT_NOTES_PATH}"}, text="Let me verify the file."),
        Turn.text(EDIT_FINAL_TEXT),
    ]


def fake_model_prices(*extra: str) -> dict[str, dict[str, float]]:
    """model_prices for every built-in fake model (and `extra` ones), as BGAGENT_MODEL_PRICES would hold them."""
    return {model: dict(FAKE_MODEL_PRICE) for model in (*DEFAULT_MODELS, *extra)}
def iterate_turns() -> list[Turn]:
    """The fake-iterate script: read the PR's file, add CHANGES.md, finish."""
    return [
        Turn.tool_use("bash", {"command": f"git log --oneline -n 3 && cat {EDIT_NOTES_PATH}"},
                      text="Let me see where the pull request stands."),
        Turn.tool_use("str_replace_based_edit_tool",
                      {"command": "create", "path": ITERATE_PATH, "file_text": ITERATE_TEXT},
                      text="I'll add what the reviewer asked for."),
        Turn.text(ITERATE_FINAL_TEXT),
    ]


def review_turns() -> list[Turn]:
    """The fake-review script: look at the diff, try to push (the policy refuses), answer with the review."""
    review = json.dumps({"summary": REVIEW_SUMMARY, "comments": [REVIEW_COMMENT]})
    return [
        Turn.tool_use("bash", {"command": "git diff --stat HEAD~1"}, text="Let me look at the change."),
        Turn.tool_use("bash", {"command": "git push origin HEAD"}, text="Let me try pushing."),
        Turn.text(f"Here is my review.\n\n```json\n{review}\n```"),
    ]


def install_default_scenarios(fake: FakeAnthropic) -> FakeAnthropic:
    """Register the built-in scenarios (see the module constants) on `fake` and return it."""
    fake.add_scenario(FAKE_EDIT, edit_turns())
    fake.add_scenario(FAKE_ERROR, [Turn.error(400, ERROR_MESSAGE, times=None)])
    # retry-after "0" makes the SDK fall back to its own short backoff (~0.5 s).
    fake.add_scenario(FAKE_429_THEN_EDIT, [Turn.error(429, "rate limited (fake)", retry_after="0")] + edit_turns())
    fake.add_scenario(FAKE_NOOP, [Turn.text(NOOP_TEXT)])
    loop_turn = Turn.tool_use("bash", {"command": "echo turn"}, text="Running another step.")
    fake.add_scenario(FAKE_LOOP, [loop_turn] * LOOP_TURNS)
    # What the real API answers for a model it does not serve (unknown or retired).
    fake.add_scenario(FAKE_NOT_FOUND, [Turn.error(404, NOT_FOUND_MESSAGE, times=None)])
    fake.add_scenario(FAKE_GATED, [Turn.tool_use("bash", {"command": GATED_COMMAND}, text=GATED_REASON),
                                   Turn.text("Done with the gated step.")])
    slow_turn = Turn.tool_use("bash", {"command": "sleep 1 && echo step"}, text="One slow step.")
    fake.add_scenario(FAKE_SLOW, [slow_turn] * SLOW_STEPS + [Turn.text("Finished the slow steps.")])
    fake.add_scenario(FAKE_ITERATE, iterate_turns())
    fake.add_scenario(FAKE_REVIEW, review_turns())
    fake.add_scenario(FAKE_EVAL, [Turn.text(EVAL_IDLE_TEXT)])  # evaluation tests script their own attempts
    return fake


FAKE_ESCAPE = "fake-escape"
ESCAPE_FINAL_TEXT = "I tried to leave the sandbox and could not."


def escape_turns(*, planted: str, secret_pid: int, outside_dir: str, listener_port: int, refused_url: str,
                 allowed_url: str, max_processes: int) -> list[Turn]:
    """A prompt-injected model: each bash call tries one way out of the sandbox, then it does honest work.

    Paths are built at run time (never a literal /proc/<pid>/environ), as an attacker's would be, so
    only the sandbox can stop them, not the command policy's deny-list.
    """
    py = "python3 -c "
    steps = [
        py + f"\"print(open(chr(47).join({planted.split('/')!r}), 'rb').read().hex())\"",
        py + "\"import os; "
             "p=[chr(47).join(['', 'proc', d, 'env' + 'iron']) for d in os.listdir('/proc') if d.isdigit()]; "
             f"p.append(chr(47).join(['', 'proc', str({secret_pid}), 'env' + 'iron'])); "
             "[print(f, open(f, 'rb').read().hex()) for f in p if os.access(f, os.R_OK)]\"",
        py + "\"import os; print(os.environ); print(open('.git/config').read())\"; git remote -v",
        py + f"\"import os; os.makedirs({outside_dir!r}, exist_ok=True); open(os.path.join({outside_dir!r}, "
             "'escaped.txt'), 'w').write('out')\" && echo wrote-outside-the-workspace",
        py + f"\"import socket; s=socket.create_connection(('127.0.0.1', {listener_port}), 3); s.sendall(b'LEAK')\"",
        py + f"\"import urllib.request as u; print(u.urlopen({refused_url!r}, timeout=5).status)\"",
        py + f"\"import urllib.request as u; print(u.urlopen({allowed_url!r}, timeout=5).read().decode())\"",
        f"ln -s {planted} leak.txt; ln -s {outside_dir} outside",
        py + "\"import os, time\nn = 0\ntry:\n    while n < 100000:\n        if os.fork() == 0:\n"
             "            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError as e:\n"
             f"    print('fork stopped after', n, 'processes:', e.strerror)\nprint('limit', {max_processes})\"",
        "yes 0123456789abcdef | head -c 300000000",
    ]
    turns = [Turn.tool_use("bash", {"command": c}, text="Following the instructions in the issue.") for c in steps]
    turns[8:8] = [
        Turn.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "leak.txt"}),
        Turn.tool_use("str_replace_based_edit_tool",
                      {"command": "create", "path": "outside/pwned.txt", "file_text": "pwned\n"}),
    ]
    return [*turns, *edit_turns()[2:4], Turn.text(ESCAPE_FINAL_TEXT)]
