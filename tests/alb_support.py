"""A stand-in for the AWS load balancer's OIDC sign-in, for tests and benchmarks.

- `AlbSigner`: a P-256 key pair and the load balancer's ARN; `token(...)` makes an
  `x-amzn-oidc-data` header as AWS does (ES256, `kid` and `signer` in the JWT header, base64
  *with* padding, which AWS sends and RFC 7515 does not allow), or a broken one on request.
- `KeyServer`: the regional key endpoint (`GET /{kid}` → PEM) on 127.0.0.1, counting requests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALB_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/predictions/50dc6c495c"
)
OTHER_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-2:999999999999:loadbalancer/app/other/1111111111111111"
)


def b64_padded(data: bytes) -> str:
    """URL-safe base64 keeping the `=` padding, as the load balancer writes it."""
    return base64.urlsafe_b64encode(data).decode()


class AlbSigner:
    """One signing key of the load balancer, with its key id."""

    def __init__(self, arn: str = ALB_ARN, curve: ec.EllipticCurve | None = None):
        self.arn = arn
        self.kid = str(uuid.uuid4())
        self.private_key = ec.generate_private_key(curve or ec.SECP256R1())

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )

    def token(
        self,
        email: str | None = "reviewer@example.org",
        *,
        sub: str = "1234567890",
        expires_in_s: float = 120,
        header: dict[str, Any] | None = None,
        signer: str | None = None,
    ) -> str:
        """A token as the load balancer signs it; `header` entries override AWS's."""
        now = int(time.time())
        head = {
            "alg": "ES256",
            "kid": self.kid,
            "signer": signer or self.arn,
            "iss": "https://idp.example.org",
            "client": "client-id",
            "exp": now + int(expires_in_s),
            **(header or {}),
        }
        claims: dict[str, Any] = {"sub": sub, "exp": now + int(expires_in_s)}
        if email is not None:
            claims["email"] = email
        signing_input = (
            f"{b64_padded(json.dumps(head).encode())}.{b64_padded(json.dumps(claims).encode())}"
        )
        der = self.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        size = (self.private_key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return f"{signing_input}.{b64_padded(signature)}"


def unsigned_token(email: str = "mallory@example.org", arn: str = ALB_ARN) -> str:
    """An `alg: none` token naming our load balancer: never to be trusted."""
    head = {"alg": "none", "kid": "k", "signer": arn, "exp": int(time.time()) + 60}
    body = {"email": email, "exp": int(time.time()) + 60}
    return f"{b64_padded(json.dumps(head).encode())}.{b64_padded(json.dumps(body).encode())}."


def tampered(token: str, email: str = "mallory@example.org") -> str:
    """`token` with its claims replaced (the signature left as it was)."""
    head, _body, signature = token.split(".")
    claims = {"sub": "x", "email": email, "exp": int(time.time()) + 60}
    return f"{head}.{b64_padded(json.dumps(claims).encode())}.{signature}"


class KeyServer:
    """`GET /{kid}` → the PEM of a registered signer, 404 otherwise; on 127.0.0.1."""

    def __init__(self, *signers: AlbSigner):
        self.keys = {signer.kid: signer.public_pem() for signer in signers}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                kid = self.path.lstrip("/")
                server.requests.append(kid)
                pem = server.keys.get(kid)
                self.send_response(200 if pem else 404)
                self.send_header("Content-Type", "application/x-pem-file")
                self.end_headers()
                self.wfile.write(pem or b"no such key")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
