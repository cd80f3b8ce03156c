// The fix page's map: a tap places the row's point and fills the latitude/longitude boxes
// (which also work by typing, without this script). Picking a column puts its value in the box.
const column = document.getElementById("column");
const value = document.getElementById("value");
if (column && value) {
  column.addEventListener("change", () => {
    value.value = column.selectedOptions[0]?.dataset.value ?? "";
  });
}
const L = window.L;
const element = document.getElementById("fix-map");
if (L && element) {
  const lat = document.getElementById("lat");
  const lon = document.getElementById("lon");
  const map = L.map(element).setView([Number(element.dataset.lat), Number(element.dataset.lon)], 14);
  L.tileLayer("https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png", {
    attribution: '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>', maxZoom: 18,
  }).addTo(map);
  let marker = null;
  const place = (latlng) => {
    marker = marker ? marker.setLatLng(latlng) : L.marker(latlng, { keyboard: false }).addTo(map);
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
  };
  map.on("click", (event) => place(event.latlng));
  for (const box of [lat, lon]) {
    box.addEventListener("change", () => {
      const here = L.latLng(Number(lat.value), Number(lon.value));
      if (Number.isFinite(here.lat) && Number.isFinite(here.lng) && lat.value && lon.value) place(here);
    });
  }
}
