// Two frames after load the page has been painted; tell the shell (the bench's probe).
requestAnimationFrame(() =>
  requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke("painted")),
);
