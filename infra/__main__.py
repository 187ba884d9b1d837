"""Pulumi entry point: read the stack's config, build the stack, export its outputs."""

from predictions_infra.config import read_pulumi_config
from predictions_infra.stack import build_stack, export_outputs

export_outputs(build_stack(read_pulumi_config()))
