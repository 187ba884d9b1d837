"""The stack configuration and the Pulumi main program, under mocks (no cloud, no CLI):
bad values are refused with a clear message, and `__main__.py` exports every output.
"""

from __future__ import annotations

import re
import runpy
from typing import Any

import pulumi
import pytest
import yaml
from predictions_infra.config import CONFIG_KEYS, InfraConfigError, parse_stack_config
from predictions_infra.mocks import (
    Synthesis,
    is_secret,
    run_program,
    unwrap,
    use_mocks,
)
from predictions_infra.stack import EXPORT_NAMES

from tests.infra_support import (
    CERTIFICATE_ARN,
    INFRA_DIR,
    OIDC_VALUES,
    PROJECT,
    REGION,
    T_INGRESS,
    T_LISTENER,
    plain_config,
)

# pulumi_aws warns about its own deprecated aliases when it loads its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "region", "complaint"),
    [
        ({}, REGION, "allowedCidrs is empty"),
        ({"allowedCidrs": []}, REGION, "allowedCidrs is empty"),
        ({"allowedCidrs": "10.0.0.0/8"}, REGION, "allowedCidrs must be a list"),
        ({"allowedCidrs": ["10.0.0.300/8"]}, REGION, "is not a CIDR block"),
        ({"allowedCidrs": ["10.0.0.0/8"]}, None, "aws:region is not set"),
        (
            {"allowedCidrs": ["10.0.0.0/8"], "cpu": 1024, "memory": 512},
            REGION,
            "not a Fargate size",
        ),
        ({"allowedCidrs": ["10.0.0.0/8"], "cpu": 300}, REGION, "cpu must be one of"),
        ({"allowedCidrs": ["10.0.0.0/8"], "minTasks": 3, "maxTasks": 2}, REGION, "minTasks <="),
        ({"allowedCidrs": ["10.0.0.0/8"], "logRetentionDays": 10}, REGION, "logRetentionDays"),
        ({"allowedCidrs": ["10.0.0.0/8"], "appPort": 80}, REGION, "appPort must be in"),
        ({"allowedCidrs": ["10.0.0.0/8"], "oidcIssuer": "https://x"}, REGION, "half configured"),
        ({"allowedCidrs": ["10.0.0.0/8"], "allowedCidr": ["1.2.3.4/32"]}, REGION, "unknown config"),
        ({"allowedCidrs": ["10.0.0.0/8"], "publisherPrincipalArns": ["ci"]}, REGION, "IAM ARNs"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbBackupRetentionDays": 3}, REGION, "at least a week"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbBackupRetentionDays": 40}, REGION, "7..35"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbEngineVersion": "9.6"}, REGION, "dbEngineVersion"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbEngineVersion": "latest"}, REGION, "major version"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbInstanceClass": "t4g.micro"}, REGION, "db.t4g.micro"),
        ({"allowedCidrs": ["10.0.0.0/8"], "dbAllocatedStorageGb": 5}, REGION, "20..65536"),
        (
            {
                "allowedCidrs": ["10.0.0.0/8"],
                "dbAllocatedStorageGb": 50,
                "dbMaxAllocatedStorageGb": 30,
            },
            REGION,
            "autoscaling ceiling",
        ),
        ({"allowedCidrs": ["10.0.0.0/8"], "startupGraceSeconds": -1}, REGION, "in 0..86400"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(values, region, complaint):
    with pytest.raises(InfraConfigError) as raised:
        parse_stack_config(values, region=region)
    assert complaint in str(raised.value)
    # A RunError makes `pulumi up` print the message without a Python traceback.
    assert isinstance(raised.value, pulumi.RunError)


def test_oidc_needs_https_and_its_client_secret():
    values = {"allowedCidrs": ["10.0.0.0/8"], **OIDC_VALUES}
    with pytest.raises(InfraConfigError, match="oidcClientSecret"):
        parse_stack_config(values, region=REGION)
    with pytest.raises(InfraConfigError, match="needs HTTPS: set certificateArn"):
        parse_stack_config(values, region=REGION, oidc_client_secret="secret")


def test_every_problem_is_reported_at_once():
    with pytest.raises(InfraConfigError) as raised:
        parse_stack_config({"cpu": 333, "logRetentionDays": 2}, region=None)
    message = str(raised.value)
    for complaint in ("allowedCidrs", "aws:region", "cpu must be one of", "logRetentionDays"):
        assert complaint in message


def test_example_stack_config_is_valid_and_complete():
    example = yaml.safe_load((INFRA_DIR / "Pulumi.dev.yaml.example").read_text())["config"]
    project = yaml.safe_load((INFRA_DIR / "Pulumi.yaml").read_text())["name"]
    assert project == PROJECT
    values = {
        key.split(":", 1)[1]: v for key, v in example.items() if key.startswith(f"{project}:")
    }
    assert set(values) <= set(CONFIG_KEYS)
    # Every key is shown, set or commented out, so the example documents them all.
    text = (INFRA_DIR / "Pulumi.dev.yaml.example").read_text()
    assert [key for key in CONFIG_KEYS if f"{project}:{key}:" not in text] == []
    config = parse_stack_config(values, region=example["aws:region"])
    assert config == plain_config(allowedCidrs=example[f"{project}:allowedCidrs"])


def test_no_account_ids_are_hard_coded_in_the_program():
    account_id = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
    for path in sorted(INFRA_DIR.rglob("*")):
        if path.suffix in {".py", ".yaml", ".example", ".md", ".just"}:
            assert not account_id.search(path.read_text()), f"account id in {path}"


def run_main_program(config: dict[str, str], monkeypatch, mocks=None) -> Synthesis:
    """Run infra/__main__.py as `pulumi up` would, with this stack config, under mocks."""
    mocks = mocks or use_mocks(PROJECT)
    pulumi.runtime.set_all_config(config, secret_keys=[f"{PROJECT}:oidcClientSecret"])
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.setdefault(name, value))

    def program() -> dict[str, Any]:
        runpy.run_path(str(INFRA_DIR / "__main__.py"), run_name="__main__")
        return exported

    try:
        return run_program(mocks, program)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])


def test_main_program_reads_the_stack_config_and_exports_the_outputs(monkeypatch):
    config = {
        f"{PROJECT}:allowedCidrs": '["198.51.100.0/24"]',
        f"{PROJECT}:logRetentionDays": "14",
        f"{PROJECT}:maxTasks": "3",
        f"{PROJECT}:certificateArn": CERTIFICATE_ARN,
        f"{PROJECT}:oidcClientSecret": "from-secret-config",
        **{f"{PROJECT}:{key}": value for key, value in OIDC_VALUES.items()},
        "aws:region": REGION,
    }
    synthesis = run_main_program(config, monkeypatch)
    assert synthesis.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 14
    assert synthesis.one("aws:appautoscaling/target:Target").inputs["maxCapacity"] == 3
    cidrs = {r.inputs.get("cidrIpv4") for r in synthesis.of_type(T_INGRESS)} - {None}
    assert cidrs == {"198.51.100.0/24"}
    (https,) = [lst for lst in synthesis.of_type(T_LISTENER) if lst.inputs["port"] == 443]
    assert is_secret(https.inputs["defaultActions"])
    assert unwrap(https.inputs["defaultActions"])[0]["authenticateOidc"]["clientSecret"] == (
        "from-secret-config"
    )
    assert set(synthesis.outputs) == set(EXPORT_NAMES.values()) - {"publisherRoleArn"}
    assert synthesis.outputs["url"] == "https://predictions-alb.elb.mock"


def test_main_program_refuses_a_misspelt_key_before_creating_anything(monkeypatch):
    config = {
        f"{PROJECT}:allowedCidrs": '["198.51.100.0/24"]',
        f"{PROJECT}:certificateArm": CERTIFICATE_ARN,
        "aws:region": REGION,
    }
    mocks = use_mocks(PROJECT)
    with pytest.raises(InfraConfigError, match=r"unknown config keys \['certificateArm'\]"):
        run_main_program(config, monkeypatch, mocks)
    assert mocks.resources == []
