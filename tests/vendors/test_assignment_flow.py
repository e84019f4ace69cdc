from __future__ import annotations

ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id status amount vendor { name } } userErrors { field code message }
  }
}"""

ENTITIES = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on CharterVehicle { id vendor { name certifications { type status } } }
    ... on Charter { id vendorCompliance { allVendorsCompliant vendors { vendor { name } isCompliant missing } } }
  }
}"""


async def test_assigned_vendor_answers_for_the_charter_vehicle(
    bookable_charter, make_vendor, vendors_staff, projected
):
    charter = await bookable_charter()
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = await make_vendor("Lone Star Coaches")
    await projected(vehicle_id)

    assigned = (
        await vendors_staff(ASSIGN, {"cv": vehicle_id, "vendor": vendor["id"], "amount": "900.00"})
    ).ok()["assignVendor"]
    entities = (
        await vendors_staff(
            ENTITIES,
            {
                "reps": [
                    {"__typename": "CharterVehicle", "id": vehicle_id},
                    {"__typename": "Charter", "id": charter["id"]},
                ]
            },
        )
    ).ok()["_entities"]

    assert assigned["userErrors"] == []
    assert assigned["assignment"]["status"] == "OFFERED"
    assert entities[0]["vendor"]["name"] == "Lone Star Coaches"
    assert sorted(c["type"] for c in entities[0]["vendor"]["certifications"]) == [
        "DOT",
        "INSURANCE",
        "MC",
    ]
    assert entities[1]["vendorCompliance"] == {
        "allVendorsCompliant": True,
        "vendors": [{"vendor": {"name": "Lone Star Coaches"}, "isCompliant": True, "missing": []}],
    }


async def test_a_vendor_missing_insurance_cannot_be_assigned(
    bookable_charter, make_vendor, vendors_staff, projected
):
    charter = await bookable_charter()
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = await make_vendor("Half Covered", certs=("DOT", "MC"))
    await projected(vehicle_id)

    result = (
        await vendors_staff(ASSIGN, {"cv": vehicle_id, "vendor": vendor["id"], "amount": "900.00"})
    ).ok()["assignVendor"]

    assert result["assignment"] is None
    assert result["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert "INSURANCE" in result["userErrors"][0]["message"]
