"""HTTP transport for the gateway."""
