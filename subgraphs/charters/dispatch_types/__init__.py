"""GraphQL types of dispatch operations (issue 13), one module per area."""
