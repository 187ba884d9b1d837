"""Signed-in reviewers (CONTRACT §3): the load balancer's `x-amzn-oidc-data` token, verified.

Keys are generated here and served by a local stand-in of AWS's regional key endpoint
(`tests/alb_support.py`); tokens are made as AWS makes them (ES256, `kid` and `signer` in the
header, base64 with padding). A token is trusted only when its signer is our load balancer,
its signature verifies with the key of its `kid`, and it has not expired; anything else is a
401 `{"error": ...}` on the write route and no save in the dashboard.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from streamlit.testing.v1 import AppTest

from predictions_core.data.location import app_settings
from predictions_core.feedback.signin import (
    OIDC_DATA_HEADER,
    SignInError,
    SignInUnavailableError,
    forget_keys,
    keys_url,
    signed_in_reviewer,
)
from predictions_core.feedback.store import FeedbackStore
from predictions_core.settings import Settings
from tests.alb_support import ALB_ARN, OTHER_ARN, AlbSigner, KeyServer, tampered, unsigned_token

QID, CLASSIFIER = "Q218", "grld4c4r"
URL = f"/api/feedback/{QID}/{CLASSIFIER}"


@pytest.fixture
def signer() -> AlbSigner:
    return AlbSigner()


@pytest.fixture
def key_server(signer: AlbSigner):
    forget_keys()
    server = KeyServer(signer)
    try:
        yield server
    finally:
        server.stop()
        forget_keys()


@pytest.fixture
def settings(key_server: KeyServer) -> Settings:
    return Settings(
        _env_file=None,
        reviewer_from_alb=True,
        alb_arn=ALB_ARN,
        alb_public_keys_url=key_server.url,
    )


def test_a_good_token_names_its_user_and_the_key_is_fetched_once(signer, key_server, settings):
    token = signer.token("ann@example.org")
    assert token.split(".")[2].endswith("=")  # padded, as AWS sends it
    assert signed_in_reviewer(token, settings) == "ann@example.org"
    assert signed_in_reviewer(signer.token("bob@example.org"), settings) == "bob@example.org"
    assert key_server.requests == [signer.kid]  # cached after the first fetch


def test_without_an_email_claim_the_user_is_the_subject(signer, key_server, settings):
    assert signed_in_reviewer(signer.token(None, sub="user-42"), settings) == "user-42"


def _forged_with_our_kid(signer: AlbSigner) -> str:
    forger = AlbSigner()
    forger.kid = signer.kid  # names our key, signs with its own
    return forger.token("mallory@example.org")


REFUSED = {
    "missing": lambda s: None,
    "empty": lambda s: "",
    "garbage": lambda s: "not-a-token",
    "unsigned (alg none)": lambda s: unsigned_token(),
    "claims changed after signing": lambda s: tampered(s.token()),
    "signed by another key": _forged_with_our_kid,
    "another load balancer": lambda s: s.token(signer=OTHER_ARN),
    "no signer": lambda s: s.token(header={"signer": None}),
    "expired": lambda s: s.token(expires_in_s=-600),
    "HS256 with the public key as secret": lambda s: _hs256_confusion(s),
    "unknown key id": lambda s: s.token(header={"kid": "00000000-0000-0000-0000-000000000000"}),
    "key id with a path": lambda s: s.token(header={"kid": "../../etc/passwd"}),
    "far too long": lambda s: "a" * 20_000,
}


def _hs256_confusion(signer: AlbSigner) -> str:
    import jwt

    head = {"kid": signer.kid, "signer": signer.arn}
    claims = {"email": "mallory@example.org", "exp": 4_102_444_800}
    return jwt.encode(
        claims, "a shared secret of at least thirty-two bytes", algorithm="HS256", headers=head
    )


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_an_untrustworthy_token_is_refused(signer, key_server, settings, case):
    with pytest.raises(SignInError) as caught:
        signed_in_reviewer(REFUSED[case](signer), settings)
    assert caught.value.http_status == 401 and caught.value.message


def test_expiry_is_read_from_the_header_or_the_claims_and_is_required(signer, key_server, settings):
    import time

    head = {"alg": "ES256", "kid": signer.kid, "signer": ALB_ARN}
    in_header = _sign_raw(signer, {**head, "exp": int(time.time()) + 60}, {"email": "a@x.org"})
    assert signed_in_reviewer(in_header, settings) == "a@x.org"  # where AWS puts it too
    with pytest.raises(SignInError, match="expiry"):
        signed_in_reviewer(_sign_raw(signer, head, {"email": "a@x.org"}), settings)


def _sign_raw(signer: AlbSigner, head: dict, claims: dict) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from tests.alb_support import b64_padded

    encoded = [b64_padded(json.dumps(part).encode()) for part in (head, claims)]
    signing_input = ".".join(encoded)
    der = signer.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64_padded(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_a_foreign_signer_never_makes_us_fetch_a_key(signer, key_server, settings):
    with pytest.raises(SignInError, match="another load balancer"):
        signed_in_reviewer(signer.token(signer=OTHER_ARN), settings)
    assert key_server.requests == []


def test_a_key_on_another_curve_is_refused(key_server, settings):
    p384 = AlbSigner(curve=ec.SECP384R1())
    key_server.keys[p384.kid] = p384.public_pem()
    with pytest.raises(SignInError):
        signed_in_reviewer(p384.token(), settings)


def test_an_unreachable_key_endpoint_or_missing_arn_is_a_503_not_a_trust(signer, settings):
    forget_keys()
    down = settings.model_copy(update={"alb_public_keys_url": "http://127.0.0.1:9"})
    with pytest.raises(SignInUnavailableError) as caught:
        signed_in_reviewer(signer.token(), down)
    assert caught.value.http_status == 503
    with pytest.raises(SignInUnavailableError, match="PREDICTIONS_ALB_ARN"):
        signed_in_reviewer(signer.token(), settings.model_copy(update={"alb_arn": None}))


def test_the_key_endpoint_is_aws_regional_one_by_default():
    settings = Settings(_env_file=None, alb_arn=ALB_ARN)
    assert keys_url(settings) == "https://public-keys.auth.elb.eu-west-2.amazonaws.com"
    with pytest.raises(SignInUnavailableError):
        keys_url(Settings(_env_file=None, alb_arn="arn:aws:elasticloadbalancing:../x"))


# ---------------------------------------------------------------------- the write route


@pytest.fixture
def signed_in_api(demo_copy: Path, serve, key_server, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_REVIEWER_FROM_ALB", "true")
    monkeypatch.setenv("PREDICTIONS_ALB_ARN", ALB_ARN)
    monkeypatch.setenv("PREDICTIONS_ALB_PUBLIC_KEYS_URL", key_server.url)
    client = serve(demo_copy)
    passage_id = client.get(f"/api/predictions/{QID}/{CLASSIFIER}").json()["predictions"][0]["id"]
    return client, passage_id


def test_the_route_records_the_signed_in_user_whatever_the_body_says(signer, signed_in_api):
    client, passage_id = signed_in_api
    body = {"passage_id": passage_id, "judgement": "correct", "reviewer": "someone-else"}
    answer = client.post(URL, json=body, headers={OIDC_DATA_HEADER: signer.token("ann@x.org")})
    assert answer.status_code == 201, answer.text
    assert answer.json()["reviewer"] == "ann@x.org"
    (stored,) = FeedbackStore(app_settings().resolved_feedback_db).history(QID)
    assert stored["reviewer"] == "ann@x.org"


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_the_route_refuses_an_untrustworthy_token_with_a_401(signer, signed_in_api, case):
    client, passage_id = signed_in_api
    token = REFUSED[case](signer)
    headers = {OIDC_DATA_HEADER: token} if token is not None else {}
    body = {"passage_id": passage_id, "judgement": "correct", "reviewer": "mallory"}
    answer = client.post(URL, json=body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]
    assert FeedbackStore(app_settings().resolved_feedback_db).history(QID) == []


def test_without_the_setting_the_header_is_ignored_and_the_body_names_the_reviewer(
    demo_copy, serve, signer
):
    client = serve(demo_copy)
    passage_id = client.get(f"/api/predictions/{QID}/{CLASSIFIER}").json()["predictions"][0]["id"]
    body = {"passage_id": passage_id, "judgement": "unsure", "reviewer": "bob"}
    answer = client.post(URL, json=body, headers={OIDC_DATA_HEADER: "anything"})
    assert answer.status_code == 201 and answer.json()["reviewer"] == "bob"


# ---------------------------------------------------------------------- the dashboard


def _controls_script() -> None:
    import streamlit as st

    from predictions_core.ui.feedback import passage_judging, render_reviewer_input
    from predictions_core.ui.views import markdown_text

    st.session_state.setdefault("feedback_reviewer", "typed-name")
    render_reviewer_input()
    passage = {"id": "p1", "text": "Forest management.", "spans": [], "metadata": {}}
    judging = passage_judging("Q787", [("spans", "kw")], "browse")
    judging.begin(review=True)
    judging.controls([passage])
    st.caption(markdown_text(judging.summary(passage)))


@pytest.fixture
def dashboard(tmp_path, monkeypatch, key_server):
    (tmp_path / "data").mkdir()
    for name, value in {
        "PREDICTIONS_DATA_DIR": str(tmp_path / "data"),
        "PREDICTIONS_FEEDBACK_DB": str(tmp_path / "fb.sqlite"),
        "SKIP_S3_SYNC": "true",
        "PREDICTIONS_REVIEWER_FROM_ALB": "true",
        "PREDICTIONS_ALB_ARN": ALB_ARN,
        "PREDICTIONS_ALB_PUBLIC_KEYS_URL": key_server.url,
    }.items():
        monkeypatch.setenv(name, value)
    headers: dict[str, str] = {}
    import streamlit as st

    # AppTest sends no HTTP headers: give the session the ones a load balancer would
    monkeypatch.setattr(type(st.context), "headers", property(lambda self: headers))
    return FeedbackStore(tmp_path / "fb.sqlite"), headers


def test_the_dashboard_saves_as_the_signed_in_user_not_the_typed_name(signer, dashboard):
    store, headers = dashboard
    headers[OIDC_DATA_HEADER] = signer.token("carol@example.org")
    app = AppTest.from_function(_controls_script, default_timeout=30).run()
    assert not app.exception
    assert "carol@example\\.org" in app.caption[0].value  # escaped for Markdown
    assert not app.text_input or all(w.label != "Reviewer name (optional)" for w in app.text_input)
    app.segmented_control[0].set_value("incorrect").run()
    (judgement,) = store.history("Q787")
    assert judgement["reviewer"] == "carol@example.org"


def test_the_dashboard_refuses_to_save_with_a_forged_sign_in(signer, dashboard):
    store, headers = dashboard
    headers[OIDC_DATA_HEADER] = _forged_with_our_kid(signer)
    app = AppTest.from_function(_controls_script, default_timeout=30).run()
    assert not app.exception
    assert "cannot be saved" in app.caption[0].value
    app.segmented_control[0].set_value("correct").run()
    assert store.history("Q787") == []
    assert any("Not saved" in toast.value for toast in app.toast)
