"""Open311 GeoReport v2 at ``/open311/v2``: citizen reports in the open standard that existing
Open311 clients and provincial systems speak (services, requests, discovery; JSON and XML)."""
