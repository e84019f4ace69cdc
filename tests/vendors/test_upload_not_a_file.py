"""`uploadVendorDocument` with `file` as a JSON value (no multipart): a user error, nothing stored."""

from __future__ import annotations

from tests.vendors.test_documents import UPLOAD, stored


async def test_a_json_string_for_file_is_a_user_error_on_file(
    make_vendor, vendors_staff, vendors_settings, sessions
):
    vendor = await make_vendor()
    before = await stored(sessions, vendors_settings.documents_path)

    result = (await vendors_staff(UPLOAD, {"vendorId": vendor["id"], "file": "JVBERi0xLjQK"})).ok()[
        "uploadVendorDocument"
    ]

    assert result["document"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [("file", "INVALID")]
    assert await stored(sessions, vendors_settings.documents_path) == before
