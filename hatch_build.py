"""Wheel build hook: ship the bundled demo data (`data/demo`) as `predictions_core/demo/bundled`.

An installed package has no checkout beside it, so `data.location` finds its demo data there.
A plain `force-include` of the folder would copy it verbatim, with whatever a local run left in
it (the `.cache` of columnar files, a `feedback.sqlite` of reviewers' judgements); this hook
lists the demo's own files only.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DEMO_SOURCE = "data/demo"
DEMO_TARGET = "predictions_core/demo/bundled"


def is_local_state(relative: PurePath) -> bool:
    """Caches, temp files and databases a run leaves in a data dir: never shipped."""
    hidden = any(part.startswith(".") for part in relative.parts)
    return hidden or ".sqlite" in relative.name


class DemoDataHook(BuildHookInterface):
    """Adds each file of `data/demo` (but not local state) to the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        source = Path(self.root) / DEMO_SOURCE
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and not is_local_state(relative):
                build_data["force_include"][str(path)] = f"{DEMO_TARGET}/{relative.as_posix()}"
