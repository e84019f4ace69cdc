"""Trusted documents: the operations a deployment's own clients were built with.

A production portal ships with a manifest of every operation its code
contains, written at build time: Apollo's persisted query manifest
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id", "name", "type", "body"}]}`, what `@apollo/generate-persisted-query-
manifest` writes) or a plain `{"<id or hash>": "<document>"}` map (what Relay,
GraphQL Codegen's client preset and most other tools write). The router
loads it once at start-up; clients then send only an id (`documentId` from
the GraphQL-over-HTTP persisted documents proposal, Relay's `doc_id`, or
Apollo's `extensions.persistedQuery.sha256Hash`).

Unlike APQ's store, the manifest is immutable and local to the process: no
request can add to it, and no other replica's Redis entry counts as being
in it. That is what makes it a safelist: with `trusted_documents_only`
(enforced by `PersistedQueries.resolve`, the one persisted-only machinery)
nothing outside it runs, on any transport.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["APOLLO_FORMAT", "ManifestError", "TrustedDocuments"]

APOLLO_FORMAT = "apollo-persisted-query-manifest"
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
#: the GraphQL-over-HTTP proposal's prefixed form of a content-addressed id
_SHA256_PREFIX = "sha256:"


class ManifestError(ValueError):
    """The manifest cannot be used: the router refuses to start with it."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TrustedDocuments:
    """The manifest's documents, by their ids and by the sha256 of their text."""

    __slots__ = ("by_hash", "by_id", "source")

    def __init__(self, documents: Mapping[str, str], source: str = "<memory>") -> None:
        self.source = source
        self.by_id: dict[str, str] = dict(documents)
        #: sha256 hex (lower case) of each body: how APQ clients and `sha256:` ids name it
        self.by_hash: dict[str, str] = {_sha256(body): body for body in documents.values()}

    def __len__(self) -> int:
        return len(self.by_id)

    # -- loading -------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> TrustedDocuments:
        """Read a manifest file (either format); ManifestError says what is wrong."""
        p = Path(path)
        try:
            raw = orjson.loads(p.read_bytes())
        except OSError as exc:
            raise ManifestError(f"cannot read the trusted documents manifest {p}: {exc}") from exc
        except orjson.JSONDecodeError as exc:
            raise ManifestError(f"the trusted documents manifest {p} is not JSON: {exc}") from exc
        return cls(parse_manifest(raw, str(p)), str(p))

    # -- lookups -------------------------------------------------------------

    def by_sha256(self, digest: str) -> str | None:
        return self.by_hash.get(digest.lower())

    def by_document_id(self, document_id: str) -> str | None:
        """A `documentId`/`doc_id`: a manifest key, or `sha256:<hex>` / a bare hex hash."""
        body = self.by_id.get(document_id)
        if body is not None:
            return body
        if document_id.startswith(_SHA256_PREFIX):
            return self.by_sha256(document_id[len(_SHA256_PREFIX) :])
        if _HEX64.match(document_id):
            return self.by_sha256(document_id)
        return None

    def contains(self, query: str) -> bool:
        """Whether this exact text is one of the manifest's documents."""
        return _sha256(query) in self.by_hash


def parse_manifest(raw: Any, source: str = "<memory>") -> dict[str, str]:
    """The manifest as `{id: document}`, from either format."""
    if isinstance(raw, dict) and raw.get("format") == APOLLO_FORMAT:
        if raw.get("version") != 1:
            raise ManifestError(
                f"{source}: unsupported {APOLLO_FORMAT} version {raw.get('version')!r}"
            )
        ops = raw.get("operations")
        if not isinstance(ops, list):
            raise ManifestError(f"{source}: `operations` must be a list")
        out: dict[str, str] = {}
        for i, op in enumerate(ops):
            if not isinstance(op, dict):
                raise ManifestError(f"{source}: operations[{i}] must be an object")
            op_id, body = op.get("id"), op.get("body")
            if not isinstance(op_id, str) or not op_id or not isinstance(body, str) or not body:
                raise ManifestError(f"{source}: operations[{i}] needs a string `id` and `body`")
            out[op_id] = body
        return out
    if isinstance(raw, dict):
        for key, body in raw.items():
            if not key or not isinstance(body, str) or not body:
                raise ManifestError(f"{source}: entry {key!r} must map an id to a document string")
        return dict(raw)
    raise ManifestError(
        f"{source}: expected an {APOLLO_FORMAT} object or a JSON object of id -> document"
    )
