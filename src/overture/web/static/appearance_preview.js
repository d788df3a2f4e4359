// The Appearance page's preview frame: the real widget (/widget.js, panel.js, panel.css, unchanged) on a sample
// conversation. This script runs before the widget and stands in for the server: it answers the widget's API calls
// with the sample, so nothing is written (no visitor, no conversation), and gives the widget a storage of its own
// in memory, so the preview never reads or changes what a real widget keeps on this origin.
// ?show=chat: the conversation, open (as a reload finds an open one); ?show=teaser: the launcher and its teaser.
(() => {
  "use strict";
  const show = new URLSearchParams(location.search).get("show") === "teaser" ? "teaser" : "chat";
  let look = JSON.parse(document.getElementById("overture-preview-look").textContent);
  let shown = 0;

  const kept = new Map();
  if (show === "chat") kept.set("overture_conv", JSON.stringify({ id: "sample", token: "sample", dialogue: "sample", open: true }));
  const memory = {
    getItem: (key) => (kept.has(key) ? kept.get(key) : null),
    setItem: (key, value) => { kept.set(key, String(value)); },
    removeItem: (key) => { kept.delete(key); },
  };
  Object.defineProperty(window, "localStorage", { value: memory, configurable: true });

  const bot = (text) => ({ role: "bot", text, card: "sample" });
  const SAMPLE = show === "chat"
    ? [bot("Hi there! Want to see the product live?"), { role: "visitor", text: "Yes please", card: "sample" }, bot("Great. When suits you best?")]
    : [bot("Hi there! Want to see the product live?")];
  const CHOICES = show === "chat"
    ? [{ id: "week", label: "This week" }, { id: "later", label: "Next week" }]
    : [{ id: "yes", label: "Yes please" }, { id: "no", label: "Not now" }];
  const conversation = (messages, transcript) => ({
    conversation_id: "sample", token: "sample", step: 1, status: "active", events: [], meeting: null, booked: null,
    messages: messages.map((entry) => ({ kind: entry.kind || "say", text: entry.text, card: "sample" })),
    expected: { kind: "choice", choices: CHOICES },
    transcript,
  });
  const answer = (status, data) => new Response(data === null ? null : JSON.stringify(data), {
    status, headers: { "Content-Type": "application/json" },
  });
  const API = location.origin + "/api/v1/widget/";
  const reply = (path, method) => {
    if (path === "visit") {
      return answer(200, {
        visitor_id: "sample", appearance: look,
        dialogue: show === "teaser" ? { key: "sample", version: 1, trigger: { on: "page_load" } } : null,
        conversation: show === "chat" ? { conversation_id: "sample", dialogue: "sample" } : null,
      });
    }
    if (path === "conversations" && method === "POST") return answer(201, conversation([], SAMPLE));
    if (path === "conversations/sample" || path === "conversations/sample/back") return answer(200, conversation([], SAMPLE));
    if (path === "conversations/sample/restart") return answer(200, conversation(SAMPLE.filter((e) => e.role === "bot").slice(0, 1), null));
    if (path === "conversations/sample/replies") {
      return answer(200, conversation([{ kind: "notice", text: "This is a preview: nothing was sent." }], null));
    }
    return answer(204, null); // dismiss, link clicks: nothing to say
  };
  const real = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith(API)) return real(input, init); // the panel's own files
    return Promise.resolve(reply(url.slice(API.length).split("?")[0], (init.method || "GET").toUpperCase()));
  };

  // A new appearance from the Appearance page: the widget reads it on its next visit call, which a new address
  // makes (the widget counts a History API change as a new page view, as on a single-page site).
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || event.source !== window.parent) return;
    if (!event.data || typeof event.data.appearance !== "object" || !event.data.appearance) return;
    look = event.data.appearance;
    history.replaceState(null, "", `${location.pathname}?show=${show}&look=${++shown}`);
  });
})();
