"""Application Load Balancer in front of the tasks.

Streamlit keeps one websocket per browser session, and a session's state lives in the task that
served it, so the target group uses sticky sessions (an ALB cookie). With `certificateArn` the
ALB serves HTTPS on 443 and port 80 only redirects; without it, port 80 forwards (for trials).
Optional OIDC sign-in is an `authenticate-oidc` action ahead of the forward on 443.

The target group checks the app's readiness path, which answers 503 until the task's first sync
of the bucket has finished and 200 after: the ALB routes to a task only once it has data, and
during a deploy the old tasks keep serving until the new ones are ready. (`/api/health` itself
answers 200 while syncing, for people and the image's HEALTHCHECK.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from predictions_infra.config import StackConfig
from predictions_infra.network import HTTP_PORT, HTTPS_PORT, Network

# The app's readiness check (CONTRACT §5's health route with `ready=true`).
READINESS_PATH = "/api/health?ready=true"
STICKY_SECONDS = 24 * 3600
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class LoadBalancer:
    """The ALB, its target group and listeners (the service must wait for the listeners)."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listeners: list[aws.lb.Listener]
    url: pulumi.Output[str]


def build_load_balancer(config: StackConfig, network: Network) -> LoadBalancer:
    """Create the ALB, the target group for the tasks and the listeners."""
    name = config.name
    alb = aws.lb.LoadBalancer(
        f"{name}-alb",
        load_balancer_type="application",
        internal=False,
        subnets=network.public_subnet_ids,
        security_groups=[network.alb_security_group.id],
        drop_invalid_header_fields=True,
        # Quiet websocket sessions (a reviewer reading) outlive the 60 s default.
        idle_timeout=300,
    )
    target_group = aws.lb.TargetGroup(
        f"{name}-tg",
        port=config.app_port,
        protocol="HTTP",
        target_type="ip",
        vpc_id=network.vpc.id,
        deregistration_delay=30,
        health_check={
            "enabled": True,
            "path": READINESS_PATH,
            "protocol": "HTTP",
            "matcher": "200",
            "interval": 15,
            "timeout": 5,
            "healthy_threshold": 2,
            "unhealthy_threshold": 3,
        },
        stickiness={"enabled": True, "type": "lb_cookie", "cookie_duration": STICKY_SECONDS},
    )
    forward = {"type": "forward", "target_group_arn": target_group.arn}
    if config.https_enabled:
        listeners = _https_listeners(config, alb, forward)
        scheme, host = "https", config.domain_name or alb.dns_name
    else:
        http = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[forward],
        )
        listeners, scheme, host = [http], "http", alb.dns_name
    url = pulumi.Output.concat(scheme, "://", host)
    return LoadBalancer(alb=alb, target_group=target_group, listeners=listeners, url=url)


def _https_listeners(config: StackConfig, alb: aws.lb.LoadBalancer, forward: dict) -> list:
    actions = [{**forward, "order": 2}]
    if config.oidc is not None:
        actions.insert(0, _oidc_action(config))
    https = aws.lb.Listener(
        f"{config.name}-https",
        load_balancer_arn=alb.arn,
        port=HTTPS_PORT,
        protocol="HTTPS",
        certificate_arn=config.certificate_arn,
        ssl_policy=TLS_POLICY,
        default_actions=actions,
    )
    redirect = aws.lb.Listener(
        f"{config.name}-http-redirect",
        load_balancer_arn=alb.arn,
        port=HTTP_PORT,
        protocol="HTTP",
        default_actions=[
            {
                "type": "redirect",
                "redirect": {
                    "protocol": "HTTPS",
                    "port": str(HTTPS_PORT),
                    "status_code": "HTTP_301",
                },
            }
        ],
    )
    return [https, redirect]


def _oidc_action(config: StackConfig) -> dict:
    oidc = config.oidc
    return {
        "type": "authenticate-oidc",
        "order": 1,
        "authenticate_oidc": {
            "issuer": oidc.issuer,
            "client_id": oidc.client_id,
            "client_secret": oidc.client_secret,
            "authorization_endpoint": oidc.authorization_endpoint,
            "token_endpoint": oidc.token_endpoint,
            "user_info_endpoint": oidc.user_info_endpoint,
            "scope": oidc.scope,
            "on_unauthenticated_request": "authenticate",
        },
    }
