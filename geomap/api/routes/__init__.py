"""Thin route modules: parse, call a service, return a schema."""
