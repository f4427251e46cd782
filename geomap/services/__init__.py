"""Services: the domain logic behind the API, CLI and pages."""
