"""Turning a client operation into a plan of subgraph fetches."""
