"""OGC API – Features and Tiles at ``/ogc``, served by tipg over views of public columns."""
