"""The embedded stack draws its own secrets once and keeps them (issue 8, finding 1)."""

from __future__ import annotations

import stat
from pathlib import Path

from stack.launcher import Options, Stack
from stack.secrets import NAMES, embedded_secrets
from subgraphs.kit.settings import Settings
from subgraphs.kit.startup_checks import KNOWN_DEFAULTS, MIN_LENGTH


def test_finding_1_embedded_secrets_are_random_private_and_stable(tmp_path: Path) -> None:
    first = embedded_secrets(tmp_path)
    again = embedded_secrets(tmp_path)
    elsewhere = embedded_secrets(tmp_path / "other")

    assert set(first) == set(NAMES)
    assert first == again
    assert all(first[n] != elsewhere[n] for n in NAMES)
    assert all(len(v) >= MIN_LENGTH and v not in KNOWN_DEFAULTS for v in first.values())
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600


def test_finding_1_children_get_the_stack_secrets_unless_the_user_set_them(
    tmp_path: Path,
) -> None:
    options = Options(
        root=tmp_path,
        postgres_port=1,
        redis_port=2,
        health_timeout=1,
        grace=1,
        demo=False,
    )
    settings = Settings(data_dir=tmp_path)
    stack = Stack(options, settings, {"QUOTE_LINK_SECRET": "q" * 40})

    env = stack.child_env()

    assert env["QUOTE_LINK_SECRET"] == "q" * 40
    assert env["ROUTER_SECRETS"] == embedded_secrets(tmp_path)["ROUTER_SECRETS"]
    assert (
        env["ONBOARDING_WEBHOOK_SECRET"] == embedded_secrets(tmp_path)["ONBOARDING_WEBHOOK_SECRET"]
    )
