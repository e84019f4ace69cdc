"""GraphiQL served by the router itself, from npm-installed assets (no CDN)."""
