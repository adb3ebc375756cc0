"""Bearer tokens: Cognito-shaped ID and access tokens verified against a JWKS served on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.gateway.auth import JwtVerifier, RemoteJwks
from shared.tasks.models import Task
from tests.gateway.conftest import build_gateway

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
CLIENT = "client-abc"


class JwksServer:
    """A JWKS endpoint whose key set the test can rotate; counts fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def serve(self, *keys: tuple[str, rsa.RSAPrivateKey]) -> None:
        self.keys = [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "use": "sig",
                      "alg": "RS256"} for kid, k in keys]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("old", "new", "evil")}


@pytest.fixture
def jwks(keys) -> Iterator[JwksServer]:
    server = JwksServer()
    server.serve(("old", keys["old"]))
    yield server
    server.close()


def _claims(**overrides) -> dict:
    now = int(time.time())
    claims = {"sub": "user-1", "iss": ISSUER, "iat": now, "exp": now + 600, "token_use": "id", "aud": CLIENT}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _access(**overrides) -> dict:
    return _claims(**{"token_use": "access", "aud": None, "client_id": CLIENT, "scope": "openid", **overrides})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(key, kid: str = "old", alg: str = "RS256", **claims) -> str:
    return jwt.encode(claims or _claims(), key, algorithm=alg, headers={"kid": kid})


def _gateway(issuer, url: str, min_refresh: float = 0.0):
    gw = build_gateway(issuer)
    gw.deps.verifier = JwtVerifier(RemoteJwks(url, min_refresh_seconds=min_refresh), issuer=ISSUER,
                                   client_ids={CLIENT, "second-client"})
    return gw


async def _call(gw, bearer: str):
    async with gw.client(Authorization=f"Bearer {bearer}") as c:
        return await c.get("/v1/tasks")


async def test_id_and_access_tokens_are_accepted_and_sub_is_the_user(issuer, jwks, keys):
    gw = _gateway(issuer, jwks.url)
    for claims in (_claims(), _access(), _claims(aud=["other", "second-client"])):
        resp = await _call(gw, token(keys["old"], **claims))
        assert resp.status_code == 200, (claims, resp.text)
    await gw.tasks.create(Task.new(user_id="user-1", repo="acme/app", task_description="mine"))
    assert len((await _call(gw, token(keys["old"], **_access()))).json()["data"]) == 1


@pytest.mark.parametrize("case, claims", [
    ("expired", _claims(exp=int(time.time()) - 120)),
    ("wrong issuer", _claims(iss="https://evil.example.com")),
    ("wrong audience", _claims(aud="someone-else")),
    ("no audience", _claims(aud=None)),
    ("access token of another client", _access(client_id="someone-else")),
    ("no token_use", _claims(token_use=None)),
    ("refresh token_use", _claims(token_use="refresh")),
    ("no sub", _claims(sub=None)),
    ("no exp", _claims(exp=None)),
])
async def test_bad_claims_are_401(issuer, jwks, keys, case, claims):
    resp = await _call(_gateway(issuer, jwks.url), token(keys["old"], **claims))
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHORIZED", case


async def test_forgeries_are_401(issuer, jwks, keys):
    gw = _gateway(issuer, jwks.url)
    public_pem = keys["old"].public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "old"})
    # The classic confusion attack: HS256 keyed with the RSA public key. Forged by hand, since PyJWT
    # itself refuses to HMAC-sign with a PEM.
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "old"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    hs256 = f"{head}.{body}." + _b64(hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    wrong_key = token(keys["evil"], kid="old")
    tampered = token(keys["old"])[:-10] + "AAAAAAAAAA"
    for forged in (unsigned, hs256, wrong_key, tampered, "a.b.c"):
        resp = await _call(gw, forged)
        assert resp.status_code == 401, forged


async def test_a_key_rotated_in_is_fetched_on_first_sight(issuer, jwks, keys):
    gw = _gateway(issuer, jwks.url)
    assert (await _call(gw, token(keys["old"]))).status_code == 200
    assert (await _call(gw, token(keys["new"], kid="new"))).status_code == 401  # not published yet
    jwks.serve(("old", keys["old"]), ("new", keys["new"]))
    assert (await _call(gw, token(keys["new"], kid="new"))).status_code == 200
    assert (await _call(gw, token(keys["old"]))).status_code == 200
    fetches = jwks.fetches
    assert (await _call(gw, token(keys["new"], kid="new"))).status_code == 200
    assert jwks.fetches == fetches  # cached


async def test_a_key_published_for_encryption_never_verifies_a_token_fetched_or_cached(issuer, jwks, keys):
    gw = _gateway(issuer, jwks.url)
    jwks.serve(("old", keys["old"]), ("new", keys["new"]))
    jwks.keys[1]["use"] = "enc"
    assert (await _call(gw, token(keys["old"]))).status_code == 200  # the key set is now cached
    for _ in range(2):
        assert (await _call(gw, token(keys["new"], kid="new"))).status_code == 401


async def test_unknown_key_ids_cannot_make_the_gateway_hammer_the_jwks(issuer, jwks, keys):
    gw = _gateway(issuer, jwks.url, min_refresh=60)
    assert (await _call(gw, token(keys["old"]))).status_code == 200
    for i in range(5):
        assert (await _call(gw, token(keys["evil"], kid=f"made-up-{i}"))).status_code == 401
    assert jwks.fetches == 1


async def test_an_unreachable_jwks_is_503(issuer, keys):
    gw = _gateway(issuer, "http://127.0.0.1:9/.well-known/jwks.json")
    resp = await _call(gw, token(keys["old"]))
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_local_issuer_tokens_go_through_the_same_checks(gw):
    async with gw.client(Authorization=f"Bearer {gw.token('alice')}") as c:
        assert (await c.get("/v1/tasks")).status_code == 200
    async with gw.client(Authorization=f"Bearer {gw.token('alice', ttl_seconds=-120)}") as c:
        assert (await c.get("/v1/tasks")).status_code == 401
    async with gw.client(Authorization=f"Bearer {gw.token('alice', token_use='refresh')}") as c:
        assert (await c.get("/v1/tasks")).status_code == 401
