"""Reports and dashboards: saved GraphQL operations run through the router as their reader."""
