"""What "the same answer" means between two routers.

- `data`: deep-equal (dict key order free, list order kept: the subgraphs
  answer in a fixed order), and present in both or absent in both.
- `errors`: compared as a set of kinds, not one by one. Paths are left out:
  Hive Gateway 2.15 reports entity-fetch errors with list indices missing
  (`["charters", 0, "vehicles", "vendor", "rating"]`) and one error per
  alias, so neither paths nor counts are comparable. The kinds are
  * a subgraph's own error: (serviceName, message); every one Hive
    forwards we must forward too (Hive masks a subgraph's errors as
    "Unexpected error." when that subgraph answered `data: null`);
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


def differences(ours: dict[str, Any], hive: dict[str, Any]) -> list[str]:
    """Why the two answers are not the same (empty when they are)."""
    found = []
    if ("data" in ours) != ("data" in hive):
        found.append("`data` present in one answer only")
    if ours.get("data") != hive.get("data"):
        found.append("data differs")
    our_kinds = {error_kind(e) for e in ours.get("errors") or ()}
    hive_kinds = {error_kind(e) for e in hive.get("errors") or ()}
    if bool(our_kinds) != bool(hive_kinds):
        found.append("errors in one answer only")
    if {k for k in our_kinds if k[0] == "invalid"} != {k for k in hive_kinds if k[0] == "invalid"}:
        found.append("validation errors differ")
    missing = {k for k in hive_kinds if k[0] == "subgraph"} - our_kinds
    if missing:
        found.append(f"subgraph errors Hive forwards and we do not: {sorted(missing)}")
    return found
