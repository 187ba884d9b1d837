"""Where the data is: the process's settings with the demo-data fallback of CONTRACT §3.

`app_settings()` is the one place a process reads its settings: once, shared by the HTTP
routes, the dashboard, the CLI and the background sync. `reload_settings()` reads them again
(tests that change the environment; the dashboard's "Refresh data", after which
`data/processed` may hold concepts and the demo fallback no longer applies).
"""

from __future__ import annotations

import threading
from pathlib import Path

from dotenv import load_dotenv

from predictions_core.data.catalogue import find_concept_ids
from predictions_core.settings import Settings

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_ROOT.parent
# in a checkout, the demo data is `data/demo` beside the package; an installed wheel carries
# the same files as package data (pyproject: `force-include`)
_DEMO_CANDIDATES = (PACKAGE_ROOT / "demo" / "bundled", REPO_ROOT / "data" / "demo")
DEMO_DATA_DIR = next((path for path in _DEMO_CANDIDATES if path.is_dir()), _DEMO_CANDIDATES[-1])

_settings: Settings | None = None
_settings_lock = threading.Lock()


def with_demo_fallback(settings: Settings) -> Settings:
    """`settings`, or a copy on the bundled demo data when nothing else is configured.

    The demo data is used when `PREDICTIONS_DATA_DIR` is not set, no bucket is set, and the
    default data dir (`data/processed`) holds no concept.
    """
    if "data_dir" in settings.model_fields_set or settings.s3_bucket:
        return settings
    if find_concept_ids(settings.data_dir):
        return settings
    return settings.as_demo(DEMO_DATA_DIR)


def app_settings() -> Settings:
    """The process's settings, read on first use (environment, then `./.env`)."""
    global _settings
    with _settings_lock:
        if _settings is None:
            # into os.environ too, so boto3 sees AWS_* variables written in `.env`
            load_dotenv(Path.cwd() / ".env", override=False)
            _settings = with_demo_fallback(Settings())
        return _settings


def forget_settings() -> None:
    """Forget the settings read so far: the next `app_settings()` reads them again."""
    global _settings
    with _settings_lock:
        _settings = None


def reload_settings() -> Settings:
    """Forget the settings read so far and read them again."""
    forget_settings()
    return app_settings()
