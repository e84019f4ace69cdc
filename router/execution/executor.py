"""Run a plan: each fetch starts once the fetches it depends on have merged."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from router.execution.fetcher import Fetcher, FetchError
from router.execution.merge import Targets, collect, deep_merge
from router.execution.represent import Representer, representer
from router.planning.plan import EntityPart, FetchNode, QueryPlan
from router.planning.selection import restore_aliases


class Executor:
    def __init__(self, fetcher: Fetcher, abstract_types: frozenset[str]) -> None:
        self.fetcher = fetcher
        self.abstract = abstract_types

    async def run(
        self,
        plan: QueryPlan,
        variables: Mapping[str, Any],
        headers: dict[str, str] | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        tasks: dict[int, asyncio.Task[None]] = {}
        # Identical reads in flight share one fetch; writes never do (two clients
        # sending the same mutation at once each mean it).
        dedupe = plan.kind != "mutation"

        async def run_node(node: FetchNode) -> None:
            if node.deps:
                await asyncio.gather(*(tasks[d] for d in node.deps))
            await self._fetch(node, data, errors, variables, headers, dedupe)

        for node in plan.nodes:
            tasks[node.id] = asyncio.ensure_future(run_node(node))
        if tasks:
            await asyncio.gather(*tasks.values())
        return data, errors

    async def _fetch(
        self,
        node: FetchNode,
        data: dict[str, Any],
        errors: list[dict[str, Any]],
        variables: Mapping[str, Any],
        headers: dict[str, str] | None,
        dedupe: bool = True,
    ) -> None:
        vars_: dict[str, Any] = {v: variables[v] for v in node.variables if v in variables}
        targets: list[Targets] = []
        if node.parts:
            reps = self._representations(node, data, targets)
            if not reps:
                return
            vars_["representations"] = reps
        body: dict[str, Any] = {"query": node.query}
        if vars_:
            body["variables"] = vars_
        try:
            resp = await self.fetcher.post(
                node.service_name, node.url, body, headers, dedupe=dedupe
            )
        except FetchError as exc:
            self._fail(node, str(exc), errors, data, targets)
            return
        payload = resp.get("data")
        for err in resp.get("errors") or ():
            errors.append(self._rewrite_error(node, err, data, targets))
        if not isinstance(payload, dict):
            return
        for sel in node.restore:
            restore_aliases(payload if not node.parts else payload.get("_entities"), sel)
        if not node.parts:
            deep_merge(data, payload, self.abstract)
            return
        entities = payload.get("_entities")
        if not isinstance(entities, list):
            return
        for i, ent in enumerate(entities):
            if i < len(targets) and isinstance(ent, dict):
                for obj in targets[i].objects:
                    deep_merge(obj, ent, self.abstract)

    @staticmethod
    def _representations(
        node: FetchNode,
        data: dict[str, Any],
        targets: list[Targets],
    ) -> list[dict[str, Any]]:
        """One representation per distinct entity; `targets` gets the objects each answers."""
        reps: list[dict[str, Any]] = []
        indexes: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
        by_path: dict[tuple[str, ...], list[EntityPart]] = {}
        for part in node.parts:
            by_path.setdefault(part.path, []).append(part)
        for at, parts in by_path.items():
            objects = collect(data, at)
            if len(parts) == 1 and parts[0].types is None:
                r = _representer(parts[0])
                r.represent(objects, indexes.setdefault(r.namespace, {}), reps, targets, at)
                continue
            for obj in objects:
                tn = obj.get("__typename")
                for p in parts:
                    if p.types is None or tn in p.types:
                        r = _representer(p)
                        index = indexes.setdefault(r.namespace, {})
                        r.represent((obj,), index, reps, targets, at)
                        break
        return reps

    def _fail(
        self,
        node: FetchNode,
        message: str,
        errors: list[dict[str, Any]],
        data: dict[str, Any],
        targets: list[Targets],
    ) -> None:
        err: dict[str, Any] = {
            "message": message,
            "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": node.service_name},
        }
        if targets:
            path = targets[0].first_path(data)
            if path is not None:
                err["path"] = path
        errors.append(err)

    def _rewrite_error(
        self,
        node: FetchNode,
        err: Any,
        data: dict[str, Any],
        targets: list[Targets],
    ) -> dict[str, Any]:
        if not isinstance(err, dict):
            err = {"message": str(err)}
        out: dict[str, Any] = {"message": err.get("message", "subgraph error")}
        path = err.get("path")
        if node.parts and isinstance(path, list):
            at: list[str | int] | None = None
            if len(path) >= 2 and path[0] == "_entities" and isinstance(path[1], int):
                i = path[1]
                if i < len(targets):
                    at = targets[i].first_path(data)
                    if at is not None:
                        at = [*at, *path[2:]]
            elif targets:
                at = targets[0].first_path(data)
            if at is not None:
                out["path"] = at
        elif isinstance(path, list):
            out["path"] = path
        ext = dict(err.get("extensions") or {})
        ext["serviceName"] = node.service_name
        out["extensions"] = ext
        return out


def _representer(part: EntityPart) -> Representer:
    """The part's compiled representer, made at its first use and kept with the plan."""
    r: Representer | None = part.build
    if r is None:
        r = part.build = representer(part)
    return r
