"""The public entry to the API: an ALB forwarding to the gateway tasks, health-checked on /healthz."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import StackConfig
from bgagent_infra.network import GATEWAY_PORT, Network

HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class ApiLoadBalancer:
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listener: aws.lb.Listener
    api_url: pulumi.Output[str]


def api_load_balancer(name: str, config: StackConfig, network: Network, parent: pulumi.Resource) -> ApiLoadBalancer:
    """ALB in the public subnets; HTTPS (and a redirect from HTTP) when a certificate is configured.

    The ALB and target group keep Pulumi's auto-names: their 32-character limit is shorter than a
    stack name may be, and nothing looks them up by name.
    """
    child = pulumi.ResourceOptions(parent=parent)
    lb = aws.lb.LoadBalancer(f"{name}-alb", load_balancer_type="application",
                             internal=False, security_groups=[network.alb_sg.id],
                             subnets=[s.id for s in network.public_subnets], drop_invalid_header_fields=True,
                             idle_timeout=60, opts=child)
    target_group = aws.lb.TargetGroup(
        f"{name}-gateway", port=GATEWAY_PORT, protocol="HTTP", target_type="ip",
        vpc_id=network.vpc.id, deregistration_delay=15,
        health_check={"path": HEALTH_PATH, "port": "traffic-port", "protocol": "HTTP", "matcher": "200",
                      "interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 3},
        opts=child)
    forward = [{"type": "forward", "target_group_arn": target_group.arn}]
    if config.certificate_arn:
        listener = aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS",
                                   ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                                   certificate_arn=config.certificate_arn, default_actions=forward, opts=child)
        aws.lb.Listener(f"{name}-http-redirect", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                        default_actions=[{"type": "redirect", "redirect": {
                            "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}], opts=child)
        scheme = "https"
    else:
        listener = aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                                   default_actions=forward, opts=child)
        scheme = "http"
    return ApiLoadBalancer(lb, target_group, listener, lb.dns_name.apply(lambda dns: f"{scheme}://{dns}"))
