// The version map: each feature coloured by what publishing it would do, flagged rows ringed.
// The same facts are listed on the page below the map (for screen readers, and without script).
const COLOURS = { added: "#146c2e", changed: "#c26100", removed: "#b3261e", same: "#0b57d0" };
const L = window.L;
const element = document.getElementById("version-map");
if (L && element) {
  const map = L.map(element).setView([Number(element.dataset.lat), Number(element.dataset.lon)], 13);
  L.tileLayer("https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png", {
    attribution: '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>', maxZoom: 18,
  }).addTo(map);
  fetch(element.dataset.src, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: 7, weight: feature.properties.flagged ? 4 : 1, color: feature.properties.flagged ? "#b3261e" : "#fff",
        fillColor: COLOURS[feature.properties.status], fillOpacity: 0.9,
      }),
      style: (feature) => ({ color: COLOURS[feature.properties.status], weight: 2 }),
      onEachFeature: (feature, drawn) => {
        const { name, row, status } = feature.properties;
        const label = document.createElement("span"); // text, never markup: names come from files
        label.textContent = `${name ?? ""} (${row ?? "-"}) ${status}`;
        drawn.bindTooltip(label);
      },
    }).addTo(map);
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [20, 20] });
    element.dataset.drawn = String(layer.getLayers().length);
  });
}
