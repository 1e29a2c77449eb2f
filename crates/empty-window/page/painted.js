// Two frames after load the page has been painted; tell the shell (the bench's probe),
// with the page's own timing (ms since its navigation began).
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    const navigation = performance.getEntriesByType("navigation")[0];
    window.__TAURI_INTERNALS__.invoke("painted", {
      timeOrigin: performance.timeOrigin,
      htmlMs: navigation ? navigation.responseEnd : 0,
      paintedMs: performance.now(),
    });
  }),
);
