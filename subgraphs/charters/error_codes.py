"""Codes of charters' user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class CharterErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    IN_THE_PAST = "IN_THE_PAST"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    INVALID_ITINERARY = "INVALID_ITINERARY"
    INSUFFICIENT_CAPACITY = "INSUFFICIENT_CAPACITY"
    BLACKED_OUT = "BLACKED_OUT"
    VEHICLE_UNAVAILABLE = "VEHICLE_UNAVAILABLE"
    CHANGE_CASE_REQUIRED = "CHANGE_CASE_REQUIRED"
    STALE_CHANGE_CASE = "STALE_CHANGE_CASE"
    INVALID_RRULE = "INVALID_RRULE"
    TOO_MANY_DATES = "TOO_MANY_DATES"
    NOT_A_TEMPLATE = "NOT_A_TEMPLATE"
    TEMPLATE_NOT_BOOKABLE = "TEMPLATE_NOT_BOOKABLE"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOO_EARLY = "TOO_EARLY"
    QUOTE_LINKS_DISABLED = "QUOTE_LINKS_DISABLED"
    UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
    UNKNOWN_SALES_AGENT = "UNKNOWN_SALES_AGENT"
    BEYOND_HORIZON = "BEYOND_HORIZON"
    # The driver app's photos (issue 13).
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    UNSUPPORTED_FILE_TYPE = "UNSUPPORTED_FILE_TYPE"
    #: GPS positions (issue 13 §4).
    IN_THE_FUTURE = "IN_THE_FUTURE"
    TOO_OLD = "TOO_OLD"
    TRIP_NOT_ACTIVE = "TRIP_NOT_ACTIVE"
    #: optimizeRoute (issue 13 §6): a stop has no coordinates to measure from.
    MISSING_COORDINATES = "MISSING_COORDINATES"
    #: E-signatures (issue 14 §2): the terms signed are not the current version of their
    #: kind, or not the text the signer was shown (its SHA-256 differs).
    OUTDATED_TERMS = "OUTDATED_TERMS"
    TERMS_CHANGED = "TERMS_CHANGED"
    #: Accepting a quote (issue 14 §2): the quote was revised since the client saw it, or
    #: it has no price yet.
    QUOTE_CHANGED = "QUOTE_CHANGED"
    QUOTE_NOT_PRICED = "QUOTE_NOT_PRICED"
