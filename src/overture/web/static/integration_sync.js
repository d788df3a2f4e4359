// An integration page's Sync section (#sync): while its initial sync runs (data-follow="running"), or after "Sync
// now" queued a run (data-follow="queued"), the status is read again every few seconds from data-status-url
// (JSON: {ok, status, html}) and the new html drawn in #sync-status. It stops once there is nothing to follow: the
// initial sync over and, for a queued run, a step newer than the page's (data-last-step). Without JavaScript the
// page shows the status as it was when loaded.
(() => {
  "use strict";
  const section = document.getElementById("sync");
  const target = document.getElementById("sync-status");
  if (!section || !target || !section.dataset.follow) return;
  const EVERY_MS = 3000;
  const MOST_POLLS = 400; // 20 minutes: a queued run that never shows (the worker stopped) is not waited for forever
  const queued = section.dataset.follow === "queued";
  const before = section.dataset.lastStep || null;
  let polls = 0;
  let shown = null;

  const over = (status) => {
    if (!status || status.in_progress) return false;
    return !queued || status.last_step_at !== before;
  };
  const again = () => {
    if (polls < MOST_POLLS) window.setTimeout(poll, EVERY_MS);
  };

  const poll = async () => {
    polls += 1;
    let response;
    try {
      response = await fetch(section.dataset.statusUrl, { headers: { Accept: "application/json" } });
    } catch (error) {
      again(); // the network, for a moment
      return;
    }
    // Refused, or the sign-in page after the session ended: the next page load says why.
    if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
    const answer = await response.json();
    if (typeof answer.html === "string" && answer.html !== shown) {
      target.innerHTML = answer.html;
      shown = answer.html;
    }
    if (!over(answer.status)) again();
  };

  again();
})();
