"""The embedded stack's own JWT issuer: an RSA key on disk, a JWKS, and RS256 tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "issuer-key.pem"
KID = "bgagent-local-1"
AUDIENCE = "bgagent"


class LocalIssuer:
    """Mints tokens the gateway verifies through the same JWKS code as Cognito's."""

    def __init__(self, key_dir: Path, issuer_url: str):
        self._dir = Path(key_dir)
        self.issuer_url = issuer_url.rstrip("/")
        self._key = self._load_or_create()

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        path = self._dir / KEY_FILE
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise TypeError(f"{path} does not hold an RSA private key")
            return loaded
        self._dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.touch(mode=0o600)
        path.write_bytes(pem)
        return key

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def mint(self, user_id: str, *, ttl_seconds: int = 12 * 3600, **claims: object) -> str:
        now = int(time.time())
        payload = {"sub": user_id, "iss": self.issuer_url, "aud": AUDIENCE, "iat": now, "exp": now + ttl_seconds,
                   "token_use": "id", **claims}
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": KID})
