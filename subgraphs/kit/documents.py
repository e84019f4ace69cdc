"""What a subgraph learns about an operation's text once, not on every request.

A router (and a portal) sends the same few operation texts again and again
with different variables. Parsing such a text, validating it against the
schema and walking it for NUL literals gave the same answer each time and
cost several milliseconds of CPU per request (issue 18 §3). Graphql-core's
own validation cache would hash the whole document deeply per request; this
one is keyed by the text (and, for validation, by the exact rule tuple), as
the router caches its documents.

Only what cannot differ between requests is kept: the parsed document
(never mutated by execution), that the document passed a given rule tuple
(a failure is not kept: its errors are validated again, so no error object
is shared between requests), and whether its literals hold a NUL. Variables
are still checked on every request. The cache is bounded (LRU) so unique
texts from an attacker cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from graphql.validation import ASTValidationRule

#: distinct operation texts remembered per process (each a parsed document, a few KiB)
MAX_DOCUMENTS: Final = 512


class KnownDocument:
    """One operation text's parse, and what was learnt about it."""

    __slots__ = ("document", "nul_literal", "valid_for")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        #: rule tuples (with their schema) this document passed without an error
        self.valid_for: set[tuple[Any, tuple[type[ASTValidationRule], ...]]] = set()
        #: whether a string literal holds U+0000; None until first asked
        self.nul_literal: bool | None = None


class DocumentCache:
    """A bounded LRU of `KnownDocument`s by (operation text, parse options)."""

    def __init__(self, maxsize: int = MAX_DOCUMENTS) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, tuple[Any, ...]], KnownDocument] = OrderedDict()

    def parse(self, query: str, options: dict[str, Any]) -> KnownDocument:
        """The text's document, parsed once; a syntax error raises (and is not kept)."""
        key = (query, tuple(sorted(options.items())) if options else ())
        known = self._entries.get(key)
        if known is not None:
            self._entries.move_to_end(key)
            return known
        known = KnownDocument(parse(query, **options))
        self._entries[key] = known
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return known

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


#: one per process: documents do not depend on the schema; validity is keyed by schema
DOCUMENTS: Final = DocumentCache()

#: `ExecutionContext` attribute the known document rides on within one request
_KNOWN = "_athena_known_document"


def known_document(execution_context: Any) -> KnownDocument | None:
    """The request's `KnownDocument` when its document came from the cache."""
    known = getattr(execution_context, _KNOWN, None)
    if known is not None and known.document is execution_context.graphql_document:
        return known  # type: ignore[no-any-return]
    return None


class CachedDocuments(SchemaExtension):
    """Parse once per text; validate once per (text, schema, rules) that passed."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            try:
                known = DOCUMENTS.parse(ctx.query, dict(ctx.parse_options))
            except GraphQLError:
                pass  # Strawberry parses it again and answers the syntax error its own way
            else:
                ctx.graphql_document = known.document
                setattr(ctx, _KNOWN, known)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        known = known_document(ctx)
        key = (ctx.schema, ctx.validation_rules)
        if known is not None and ctx.pre_execution_errors is None and key in known.valid_for:
            ctx.pre_execution_errors = []  # Strawberry validates only while this is None
            yield
            return
        yield
        if known is not None and ctx.pre_execution_errors == []:
            known.valid_for.add(key)


__all__ = ["DOCUMENTS", "CachedDocuments", "DocumentCache", "KnownDocument", "known_document"]
