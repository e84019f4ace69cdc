"""Athena's federation router: supergraph in, one GraphQL endpoint out."""
