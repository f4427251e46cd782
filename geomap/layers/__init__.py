"""Asset layers, declared as data. See :mod:`geomap.layers.registry`."""
