"""One execution of a subscription event for every listener that would get the same answer.

A live board with a thousand open tabs hears each change a thousand times;
executing the same selection over the same event for each of them was most
of charters' CPU during a fan-out (issue 13 §7). An event payload that
carries an `EventShare` (one per event per process, plus whatever differs
between listeners' payloads, such as a missed-events count) has its answer
computed once per distinct (operation text, variables, viewer) and handed to
every listener asking exactly that. The viewer is part of the key, so field
policies and permissions still decide per reader: two readers share an
answer only when they are the same person with the same roles.

Only subscription events are shared; queries and mutations execute as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


@dataclass(frozen=True, slots=True)
class EventShare:
    """Attached to a subscription payload (as `_share`) to let its answer be shared."""

    #: one dict per event per process: the answers computed so far, by key
    answers: dict[Hashable, Any] = field(compare=False, repr=False)
    #: what makes this listener's payload differ from another's for the same event
    variant: Hashable = None


def _viewer_key(context: Any) -> Hashable | None:
    viewer = getattr(context, "known_viewer", None)
    if viewer is None:
        return None
    # Token-only claims (expiry, token id, session) change no answer; who reads does.
    return (viewer.user_id, viewer.roles, viewer.scopes, viewer.impersonator_id, viewer.client_id)


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering a shared subscription event once per key."""

    def build_per_event_executor(self, payload: Any) -> Any:
        """A per-event executor with its own memo of collected subfields.

        graphql-core 3.3 makes it a shallow copy of the subscription's executor,
        so every event of a long-lived subscription added to ONE memo keyed by the
        identity of field lists made anew per event, kept alive with their
        collected fields until the subscription ended: charters' RSS grew ~40 MB a
        minute under 200 boards (issue 19 §3). The memo is only worth anything
        within one execution.
        """
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._stream_usages = type(self._stream_usages)()  # @stream's, likewise
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        share = getattr(self.root_value, "_share", None)
        if (
            not isinstance(share, EventShare)
            or self.operation.operation != OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        viewer = _viewer_key(self.context_value)
        if viewer is None or self.operation.loc is None:
            return super().execute_operation(serially)
        key = (
            self.operation.loc.source.body,
            self.operation.name.value if self.operation.name else None,
            orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=str),
            viewer,
            share.variant,
        )
        known = share.answers.get(key)
        if known is None:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                share.answers[key] = result
                return result
            known = share.answers[key] = asyncio.ensure_future(result)
        if isinstance(known, asyncio.Future):
            # shielded: a listener that leaves while waiting must not cancel the others' answer
            return asyncio.shield(known)
        return known


__all__ = ["EventShare", "SharedEventExecution"]
