// Register the service worker (static files and the offline page only: see
// templates/portal/serviceworker.js). Served from the site root so that it covers every page.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/serviceworker.js", { scope: "/" }).catch(() => {});
  });
}
