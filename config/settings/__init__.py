"""Settings package: `base` (shared, env-driven), `test`, and `prod` (refuses to start half-configured)."""
