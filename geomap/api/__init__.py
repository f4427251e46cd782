"""HTTP surface: the FastAPI application and its routes."""
