"""What "the same answer" means between two routers.

- `data`: deep-equal (dict key order free, list order kept: the subgraphs
  answer in a fixed order), and present in both or absent in both.
- `errors`: compared as a set of kinds, not one by one. Paths are left out:
  Hive Gateway 2.15 reports entity-fetch errors with list indices missing
  (`["charters", 0, "vehicles", "vendor", "rating"]`) and one error per
  alias, so neither paths nor counts are comparable. The kinds are
  * a subgraph's own error: (serviceName, message), forwarded by both;
  * a validation error: its message, quotes normalised (graphql-js writes
    "x", graphql-core 'x');
  * anything the router words itself (a subgraph down, a timeout): only
    that there is one; Hive masks these as "Unexpected error.".
"""

from __future__ import annotations

from typing import Any

ErrorKind = tuple[str, ...]


def error_kind(error: dict[str, Any]) -> ErrorKind:
    ext = error.get("extensions") or {}
    message = str(error.get("message", ""))
    code = ext.get("code")
    if code == "GRAPHQL_VALIDATION_FAILED":
        return ("invalid", message.replace("'", '"'))
    if "serviceName" in ext and code in (None, "DOWNSTREAM_SERVICE_ERROR"):
        return ("subgraph", str(ext["serviceName"]), message)
    return ("router",)


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "has_data": "data" in body,
        "data": body.get("data"),
        "errors": sorted({error_kind(e) for e in body.get("errors") or ()}),
    }
