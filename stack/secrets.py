"""The embedded stack's own secrets: random on first start, kept under `.data/`.

Secrets have no default in the code (a published default is a forgery
kit); `make run` still has to work with nothing configured, so on first
start it draws them at random and keeps them, readable by the owner only,
so that quote links and router credentials survive a restart. A variable
the user exported wins over the file.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Final

#: Environment variables the stack provides when the user did not.
NAMES: Final = (
    "QUOTE_LINK_SECRET",
    "ONBOARDING_WEBHOOK_SECRET",
    "ROUTER_SECRETS",
    "NOTIFICATIONS_TRACKING_SECRET",
)


def embedded_secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = {k: v for k, v in json.loads(path.read_text()).items() if isinstance(v, str)}
    missing = [name for name in NAMES if not stored.get(name)]
    if missing:
        stored.update({name: secrets.token_urlsafe(48) for name in missing})
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle, indent=2)
    return stored
