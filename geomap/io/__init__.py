"""Import and export of asset files."""
