"""Identity's business rules: plain values and a session in, no GraphQL.

One module per workflow: accounts (staff user management), authentication
(login, refresh, logout), mfa, password_reset, impersonation.
"""
