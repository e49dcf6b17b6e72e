// The FHIR bulk export's page, while the export runs: asks its status every second and moves the bar
// (no inline script: the CSP forbids it). Without script, the page's Refresh link does the same by hand.
document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("bulk");
  const bar = document.getElementById("bulk-progress");
  const count = document.getElementById("bulk-count");
  const status = document.getElementById("bulk-status");
  const refresh = document.getElementById("bulk-refresh");
  if (!section || !bar || !count || !status) return;
  let tenth = null;

  const show = (state) => {
    if (state.total > 0) {
      bar.max = state.total;
      bar.value = state.done;
    }
    status.textContent = state.label;
    // The count is a live region: say it at each tenth and when the export ends, not every second.
    const now = state.total > 0 ? Math.floor((10 * state.done) / state.total) : -1;
    const running = state.status === "queued" || state.status === "running";
    if (now !== tenth || !running) {
      tenth = now;
      count.textContent = state.status === "done" ? `${state.text}. The files are ready.` : state.text;
    }
    return running;
  };

  const poll = async () => {
    let state;
    try {
      const response = await fetch(section.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) return; // signed out, or no longer yours: the Refresh link still says why
      state = await response.json();
    } catch {
      window.setTimeout(poll, 5000); // the server is away a moment: ask again later
      return;
    }
    if (show(state)) {
      window.setTimeout(poll, 1000);
    } else if (refresh) {
      refresh.textContent = state.status === "done" ? "Show the files" : "Show what happened";
    }
  };

  window.setTimeout(poll, 1000);
});
