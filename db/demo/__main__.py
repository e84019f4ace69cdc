"""python -m db.demo: load every subgraph's demo data into the configured database."""

from __future__ import annotations

import asyncio
import importlib

from db.demo import ORDER
from db.engine import make_engine, session_factory
from subgraphs.kit.settings import get_settings


async def load_all() -> dict[str, int]:
    engine = make_engine(get_settings().database_url)
    sessions = session_factory(engine)
    loaded: dict[str, int] = {}
    try:
        for name in ORDER:
            try:
                module = importlib.import_module(f"db.demo.{name}")
            except ModuleNotFoundError:
                continue
            async with sessions() as session, session.begin():
                loaded[name] = await module.load(session)
    finally:
        await engine.dispose()
    return loaded


def main() -> None:
    loaded = asyncio.run(load_all())
    print("demo data:", ", ".join(f"{k} +{v}" for k, v in loaded.items()) or "nothing to load")


if __name__ == "__main__":
    main()
