"""Sales' business rules: plain values and a session in, no GraphQL.

One module per concern: access (who may read and change which client and
lead), audit, contact_details (e-mail and phone normalisation), clients
(profile and status), contacts (a client's people and its one primary
contact), leads (details, pipeline status, activities and their counters,
the hot rule).
"""
