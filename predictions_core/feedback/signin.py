"""The signed-in reviewer behind an AWS Application Load Balancer with OIDC (CONTRACT §3).

With `PREDICTIONS_REVIEWER_FROM_ALB=true`, the load balancer has authenticated the user and
passes their claims in the header `x-amzn-oidc-data`: a JWT signed by the load balancer itself
(ES256: ECDSA on P-256 with SHA-256). Its header names the signing key (`kid`) and the load
balancer (`signer`, its ARN); the public key is a PEM file at
`https://public-keys.auth.elb.{region}.amazonaws.com/{kid}` (AWS's documented endpoint).

Nothing in the header is trusted until it is verified, in AWS's documented order: the signer
is our load balancer (checked first, so a stranger's token never makes us fetch a key), the
signature verifies with the key of its `kid`, and the token has not expired. The reviewer is
then the `email` claim, else `sub`. Keys are cached per process: AWS rotates them by `kid`.

AWS's tokens carry base64 padding (`=`), which RFC 7515 forbids; PyJWT accepts it, because its
decoder pads anyway and the signature is checked over the text exactly as sent.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from predictions_core.errors import PredictionsError
from predictions_core.settings import Settings

OIDC_DATA_HEADER = "x-amzn-oidc-data"
AWS_KEYS_URL = "https://public-keys.auth.elb.{region}.amazonaws.com"
MAX_TOKEN_CHARS = 16_384  # a real token is ~1-2 KB; anything far larger is not one
MAX_KEY_BYTES = 8_192
KEY_FETCH_TIMEOUT_S = 5.0
CLOCK_LEEWAY_S = 30  # tolerated clock skew between the load balancer and this task
MAX_CACHED_KEYS = 32
_KID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_keys: dict[tuple[str, str], ec.EllipticCurvePublicKey] = {}
_keys_lock = threading.Lock()


class SignInError(PredictionsError):
    """A missing, malformed, forged, foreign or expired sign-in token (HTTP 401)."""

    http_status = 401


class SignInUnavailableError(PredictionsError):
    """Sign-in cannot be checked now: the key endpoint is unreachable or a setting is missing."""

    http_status = 503


def signed_in_reviewer(token: str | None, settings: Settings) -> str:
    """The verified user of an `x-amzn-oidc-data` token (`email`, else `sub`).

    Raises `SignInError` for a token that must not be trusted, `SignInUnavailableError` when
    it cannot be checked (no `PREDICTIONS_ALB_ARN`, the key endpoint down).
    """
    if not settings.alb_arn:
        raise SignInUnavailableError(
            "signed-in reviewers are on (PREDICTIONS_REVIEWER_FROM_ALB) but PREDICTIONS_ALB_ARN "
            "is not set, so no sign-in can be verified"
        )
    if not token:
        raise SignInError("sign-in required: open the dashboard through its load balancer")
    if len(token) > MAX_TOKEN_CHARS:
        raise SignInError("the sign-in token is not a load balancer token (too long)")
    header = _unverified_header(token)
    if header.get("alg") != "ES256":
        raise SignInError("the sign-in token is not signed by the load balancer (not ES256)")
    if header.get("signer") != settings.alb_arn:
        raise SignInError("the sign-in token was signed by another load balancer")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise SignInError("the sign-in token names no valid signing key")
    key = public_key(keys_url(settings), kid)
    claims = _verified_claims(token, key)
    _check_expiry(claims.get("exp", header.get("exp")))
    user = claims.get("email") or claims.get("sub")
    if not isinstance(user, str) or not user.strip():
        raise SignInError("the sign-in token names no user (no email or sub claim)")
    return user.strip()


def keys_url(settings: Settings) -> str:
    """The key endpoint: the override setting, else AWS's endpoint of the ARN's region."""
    if settings.alb_public_keys_url:
        return settings.alb_public_keys_url.rstrip("/")
    parts = (settings.alb_arn or "").split(":")
    region = parts[3] if len(parts) > 3 else ""
    if not _REGION.fullmatch(region):
        raise SignInUnavailableError(
            "PREDICTIONS_ALB_ARN is not a load balancer ARN with a region "
            "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)"
        )
    return AWS_KEYS_URL.format(region=region)


def public_key(base_url: str, kid: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key `kid` from `base_url` (fetched once per process, then cached)."""
    with _keys_lock:
        cached = _keys.get((base_url, kid))
    if cached is not None:
        return cached
    key = _fetch_key(f"{base_url}/{kid}")
    with _keys_lock:
        if len(_keys) >= MAX_CACHED_KEYS:
            _keys.pop(next(iter(_keys)))  # the oldest: rotated keys are not used again
        _keys[base_url, kid] = key
    return key


def forget_keys() -> None:
    """Empty the key cache (tests start each key server afresh)."""
    with _keys_lock:
        _keys.clear()


def _unverified_header(token: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise SignInError(f"the sign-in token is malformed ({error})") from error
    return header if isinstance(header, dict) else {}


def _fetch_key(url: str) -> ec.EllipticCurvePublicKey:
    try:
        with urllib.request.urlopen(url, timeout=KEY_FETCH_TIMEOUT_S) as response:  # noqa: S310
            pem = response.read(MAX_KEY_BYTES + 1)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500:  # AWS answers 403/404 for a key it never issued
            raise SignInError("the sign-in token names a signing key that is unknown") from error
        raise SignInUnavailableError(
            f"the load balancer's key endpoint answered {error.code}; try again shortly"
        ) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise SignInUnavailableError(
            "the load balancer's key endpoint cannot be reached to verify the sign-in; "
            "try again shortly"
        ) from error
    try:
        if len(pem) > MAX_KEY_BYTES:
            raise ValueError("too large")
        key = load_pem_public_key(pem)
    except ValueError as error:
        raise SignInError("the signing key of the sign-in token is not a public key") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SignInError("the signing key of the sign-in token is not a P-256 key")
    return key


def _verified_claims(token: str, key: ec.EllipticCurvePublicKey) -> dict:
    try:
        # expiry is checked below: AWS puts `exp` in the header and the payload
        return jwt.decode(token, key, algorithms=["ES256"], options={"verify_exp": False})
    except jwt.InvalidSignatureError as error:
        raise SignInError("the sign-in token's signature does not verify") from error
    except jwt.PyJWTError as error:
        raise SignInError(f"the sign-in token is not valid ({error})") from error


def _check_expiry(expiry: object) -> None:
    if isinstance(expiry, str) and expiry.strip().isdigit():
        expiry = int(expiry)
    if not isinstance(expiry, int | float) or isinstance(expiry, bool):
        raise SignInError("the sign-in token has no expiry time")
    if expiry + CLOCK_LEEWAY_S < time.time():
        raise SignInError("the sign-in has expired: reload the page to sign in again")
