"""A built-in scripted model for the embedded stack: the Messages API on loopback, no key, no cost.

`bgagent local up --demo` runs it and points the agents at it, so a whole task (clone, tool calls,
commit, tests, pull request) can be watched without model credentials. It always plays the same
script, chosen by how many replies the conversation already has, so it keeps no state:
look at the repository, write DEMO.md, finish. Usage is reported as zero tokens: nothing is billed.

    python -m cli.local.demo_model --port 4600
"""

# No `from __future__ import annotations`: FastAPI must see the real Request class on the handler below.
import argparse
import uuid
from typing import Any

DEMO_MODEL_ID = "demo"
DEMO_API_KEY = "bgagent-demo-model"  # not a secret: the demo model accepts any key
# The model catalog refuses models nobody prices, and prices are positive: the demo gets a nominal operator
# price (BGAGENT_MODEL_PRICES); it reports zero tokens, so every demo run costs $0.
DEMO_PRICE = {"input": 0.000001, "output": 0.000001}
DEMO_FILE = "DEMO.md"
DEMO_FILE_TEXT = ("# Written by bgagent's demo model\n\n"
                  "No model API was called: `bgagent local up --demo` runs a scripted model. Set\n"
                  "ANTHROPIC_API_KEY (or the Bedrock credentials) and start the stack without --demo for real work.\n")


def _script() -> list[tuple[list[dict[str, Any]], str]]:
    """(content, stop_reason) of each reply, in order."""
    return [
        ([{"type": "text", "text": "Demo model: I'll look at the repository first."},
          {"type": "tool_use", "name": "bash", "input": {"command": "ls -la && git log --oneline -n 3"}}],
         "tool_use"),
        ([{"type": "text", "text": f"Demo model: I'll write {DEMO_FILE}."},
          {"type": "tool_use", "name": "str_replace_based_edit_tool",
           "input": {"command": "create", "path": DEMO_FILE, "file_text": DEMO_FILE_TEXT}}], "tool_use"),
        ([{"type": "text", "text": f"Demo run finished: I created {DEMO_FILE}. This was bgagent's scripted demo "
                                   "model; no model API was called."}], "end_turn"),
    ]


def reply(body: dict) -> dict:
    """The Messages API answer to `body`: the script's next step after the replies it already has."""
    done = sum(1 for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "assistant")
    script = _script()
    content, stop = script[min(done, len(script) - 1)]
    content = [{**block, "id": f"toolu_demo_{uuid.uuid4().hex[:16]}"} if block["type"] == "tool_use" else block
               for block in content]
    return {"id": f"msg_demo_{uuid.uuid4().hex[:16]}", "type": "message", "role": "assistant",
            "model": body.get("model") or DEMO_MODEL_ID, "content": content, "stop_reason": stop,
            "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0}}


def build_app():
    """The FastAPI app (imported here: the CLI imports this module's constants on every start)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="bgagent demo model", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, dict) or not body.get("messages"):
            return JSONResponse({"type": "error", "error": {"type": "invalid_request_error",
                                                            "message": "messages: Field required"}}, 400)
        return JSONResponse(reply(body))

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "model": DEMO_MODEL_ID}

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(prog="python -m cli.local.demo_model")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args(argv)
    uvicorn.run(build_app(), host="127.0.0.1", port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
