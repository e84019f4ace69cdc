"""Vendors' business rules: plain values and a session in, no GraphQL.

One module per concern: access (who sees which vendor), audit, vendors
(profile and lifecycle), certifications (and compliance), documents,
projection (charters' facts from their events), assignments, bids,
ratings, onboarding, compliance_job (the daily run).
"""
