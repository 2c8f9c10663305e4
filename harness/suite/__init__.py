"""Suites: the YAML schema, loading it, prompt rendering and the plan of requests."""
