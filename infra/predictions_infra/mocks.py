"""Build the program under Pulumi's mocks and keep what it asked for (tests, offline review).

`synthesize(config)` runs `build_stack` against a recording mock instead of the engine: no
AWS account, no Pulumi CLI, no network. Each resource is kept with its type token, logical
name, mock id and inputs as the provider would receive them (camelCase keys, secrets still
wrapped: see `unwrap` and `is_secret`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc

from predictions_infra.config import StackConfig
from predictions_infra.stack import build_stack

MOCK_ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
# Outputs a provider computes that the program reads back, by resource type.
_COMPUTED_OUTPUTS: dict[str, Callable[[str], dict[str, str]]] = {
    "aws:s3/bucket:Bucket": lambda name: {"bucket": f"{name}-bucket"},
    "aws:ecr/repository:Repository": lambda name: {"repositoryUrl": f"registry.mock/{name}"},
    "aws:lb/loadBalancer:LoadBalancer": lambda name: {"dnsName": f"{name}.elb.mock"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda name: {"prefixListId": f"pl-{name}"},
    "aws:rds/instance:Instance": lambda name: {
        "address": f"{name}.rds.mock",
        "masterUserSecrets": [
            {"secretArn": mock_secret_arn(name), "kmsKeyId": "", "secretStatus": "active"}
        ],
    },
}


def mock_secret_arn(instance_name: str) -> str:
    """The ARN of the master-password secret RDS creates for this (mock) instance."""
    return f"arn:aws:secretsmanager:mock:::secret:rds!{instance_name}-AbCdEf"


def mock_arn(name: str) -> str:
    """The ARN the mock gives the resource with this logical name."""
    return f"arn:aws:mock:::{name}"


@dataclass
class Recorded:
    """One resource the program registered."""

    type: str
    name: str
    id: str
    inputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    """Records each resource; fills in the outputs a provider would compute (ARN, URL, ...)."""

    def __init__(self) -> None:
        self.resources: list[Recorded] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        resource_id = f"{args.name}-id"
        self.resources.append(Recorded(args.typ, args.name, resource_id, dict(args.inputs)))
        state = {"arn": mock_arn(args.name), "name": args.name, **args.inputs}
        computed = _COMPUTED_OUTPUTS.get(args.typ)
        state.update(computed(args.name) if computed else {})
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": list(MOCK_ZONES)}, []
        raise AssertionError(f"the program made an unexpected invoke: {args.token}")


@dataclass
class Synthesis:
    """Everything one run of the program registered, plus its resolved outputs."""

    resources: list[Recorded]
    outputs: dict[str, Any]

    def of_type(self, type_token: str) -> list[Recorded]:
        """Every resource of this type token, in registration order."""
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> Recorded:
        """The single resource of this type; AssertionError if there are none or several."""
        found = self.of_type(type_token)
        assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Recorded:
        """The resource with this logical name."""
        return next(resource for resource in self.resources if resource.name == name)

    def by_id(self, resource_id: str) -> Recorded:
        """The resource the mock gave this id."""
        return next(resource for resource in self.resources if resource.id == resource_id)


def use_mocks(project: str, stack: str = "test") -> RecordingMocks:
    """Point the Pulumi runtime at a fresh recording mock (before any resource is created)."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    return mocks


def run_program(mocks: RecordingMocks, program: Callable[[], dict[str, Any]]) -> Synthesis:
    """Run `program` (returning named outputs) and wait for every registration and output."""
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def run():
        return pulumi.Output.all(**program()).apply(resolved.update)

    run()
    return Synthesis(mocks.resources, resolved)


def synthesize(config: StackConfig, project: str = "predictions-dashboard") -> Synthesis:
    """Build the stack from `config` under fresh mocks."""
    mocks = use_mocks(project)

    def program() -> dict[str, Any]:
        outputs = vars(build_stack(config))
        return {key: value for key, value in outputs.items() if value is not None}

    return run_program(mocks, program)


def is_secret(value: Any) -> bool:
    """True if `value` reached the provider wrapped as a Pulumi secret."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """`value` with every Pulumi secret envelope replaced by what it holds."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value
