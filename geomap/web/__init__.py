"""Map pages (Folium + Leaflet served locally), QR codes and printable labels."""
