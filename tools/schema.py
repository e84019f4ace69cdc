"""Export each subgraph's SDL and compose the supergraph, or check both are current.

    python -m tools.schema export    # schema/<subgraph>.graphql from the Strawberry schemas
    python -m tools.schema compose   # schema/supergraph.graphql with the standard composer
    python -m tools.schema check     # exit 1 if either is stale or composition fails
    python -m tools.schema update    # export, compose, then the access matrix's new lines

`update` ends with `python -m tools.access_matrix update`, so a new field gets its
line in schema/access_matrix.csv (derived from the code's gates) in the same step that
publishes it; the lines it prints are the matrix diff to review.

Composition uses @theguild/federation-composition from npm (tools/compose),
so the supergraph is exactly what any standard router would be given.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS

SCHEMA_DIR = PROJECT_ROOT / "schema"
COMPOSE_DIR = PROJECT_ROOT / "tools" / "compose"
KUBERNETES_GENERATOR = PROJECT_ROOT / "deploy" / "kubernetes" / "generate.py"


def subgraph_names() -> list[str]:
    return [n for n in SUBGRAPH_PORTS if (PROJECT_ROOT / "subgraphs" / n / "app.py").exists()]


def subgraph_sdl(name: str) -> str:
    schema = importlib.import_module(f"subgraphs.{name}.app").schema
    # Executed without a request context: the kit's guards (limits, read-only
    # impersonation) have nothing to check, and one of them is asynchronous.
    result = asyncio.run(schema.execute("{ _service { sdl } }"))
    if result.errors:
        raise RuntimeError(f"{name}: {result.errors}")
    return str(result.data["_service"]["sdl"]).rstrip() + "\n"


def export(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in subgraph_names():
        (target / f"{name}.graphql").write_text(subgraph_sdl(name))


def _ensure_composer() -> None:
    if not (COMPOSE_DIR / "node_modules" / "@theguild" / "federation-composition").exists():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=COMPOSE_DIR, check=True
        )


def compose(schema_dir: Path) -> subprocess.CompletedProcess[str]:
    _ensure_composer()
    pairs = [f"{n}=http://127.0.0.1:{SUBGRAPH_PORTS[n]}/graphql" for n in subgraph_names()]
    return subprocess.run(
        ["node", str(COMPOSE_DIR / "compose.mjs"), str(schema_dir), *pairs],
        capture_output=True,
        text=True,
        check=False,
    )


def stale_files() -> list[str]:
    """Files in schema/ that differ from a fresh export and composition."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        export(fresh)
        result = compose(fresh)
        if result.returncode != 0:
            raise RuntimeError(f"composition failed:\n{result.stderr}")
        stale = []
        for path in sorted(fresh.glob("*.graphql")):
            current = SCHEMA_DIR / path.name
            if not current.exists() or current.read_text() != path.read_text():
                stale.append(f"schema/{path.name}")
        return stale


def update_access_matrix() -> None:
    """A line for each new field (and none for a gone one) in schema/access_matrix.csv."""
    from tools import access_matrix  # imports every subgraph's schema: only when asked

    for line in access_matrix.update():
        print(f"access matrix: {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schema")
    parser.add_argument("action", choices=["export", "compose", "check", "update"])
    action = parser.parse_args(argv).action
    if action in ("export", "update"):
        export(SCHEMA_DIR)
    if action in ("compose", "update"):
        result = compose(SCHEMA_DIR)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.returncode == 0:
            # the router's Kubernetes ConfigMap carries a copy of the supergraph
            subprocess.run([sys.executable, str(KUBERNETES_GENERATOR)], check=True)
            if action == "update":
                update_access_matrix()
        return result.returncode
    if action == "check":
        stale = stale_files()
        if stale:
            print("stale, run `make schema`: " + ", ".join(stale), file=sys.stderr)
            return 1
        print("schema is current")
    return 0


if __name__ == "__main__":
    if shutil.which("node") is None:
        sys.exit("node is required to compose the supergraph")
    sys.exit(main())
