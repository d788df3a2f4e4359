/* Overture's loader: the visit call, the triggers the server describes, the launcher and window.Overture.
   The chat panel (panel.js, panel.css) is loaded only when a dialogue is about to show. Plain JS, no build step. */
(() => {
  "use strict";
  const w = window, d = document, me = d.currentScript;
  if (!me || (w.Overture && w.Overture.site)) return;
  const host = new URL(me.src).origin, site = me.dataset.site || "default", V = "__PANEL_VERSION__";
  const P = "overture_", handlers = {};
  // A site that requires consent says so in its snippet (data-consent="required"): until the visitor consents, the
  // widget stores nothing and calls nothing. A page may also say yes or no before the loader arrives
  // (window.Overture = {consent: true}). Withdrawing (Overture.consent(false)) forgets everything stored.
  const needConsent = me.dataset.consent === "required", early = w.Overture && w.Overture.consent;
  let given = false, withdrawn = false, started = false;
  const allowed = () => !withdrawn && (given || !needConsent);

  // The visitor id lives in localStorage; a first-party cookie only when storage is blocked. Nothing is written
  // without consent (forgetting is always allowed).
  const store = {
    get(k) {
      try { return localStorage.getItem(P + k); } catch (e) {
        const m = d.cookie.match(new RegExp("(?:^|; )" + P + k + "=([^;]*)"));
        return m ? decodeURIComponent(m[1]) : null;
      }
    },
    set(k, v) {
      if (v != null && !allowed()) return;
      try { v == null ? localStorage.removeItem(P + k) : localStorage.setItem(P + k, v); } catch (e) {
        d.cookie = P + k + "=" + encodeURIComponent(v || "") + "; path=/; SameSite=Lax; max-age=" + (v == null ? 0 : 31536000);
      }
    },
    forget() {
      try { for (const k of Object.keys(localStorage)) if (k.startsWith(P)) localStorage.removeItem(k); } catch (e) { /* blocked */ }
      for (const c of d.cookie.split("; ")) if (c.startsWith(P)) d.cookie = c.split("=")[0] + "=; path=/; SameSite=Lax; max-age=0";
    },
  };
  given = store.get("consent") === "yes";
  const emit = (name, detail) => {
    for (const fn of handlers[name] || []) try { fn(detail); } catch (e) { setTimeout(() => { throw e; }); }
    d.dispatchEvent(new CustomEvent("overture:" + name, { detail }));
  };
  const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));

  // Every call times out and is retried with backoff; null means the server could not be reached.
  const request = async (method, path, body, token, tries = 3) => {
    for (let i = 0; i < tries; i++) {
      if (!allowed()) return null; // no call leaves without consent
      if (i) await wait(400 * 3 ** (i - 1));
      const abort = new AbortController(), timer = setTimeout(() => abort.abort(), 8000);
      try {
        const headers = { "Content-Type": "application/json" };
        if (token) headers["X-Conversation-Token"] = token;
        const r = await fetch(host + path, { method, headers, body: body && JSON.stringify(body), signal: abort.signal, credentials: "omit", keepalive: true });
        if (r.status < 500) return { status: r.status, data: r.status === 204 ? null : await r.json() };
      } catch (e) { /* offline, refused or timed out: try again */ } finally { clearTimeout(timer); }
    }
    return null;
  };

  // The launcher, in an open shadow root (the teaser's styles come with the panel's, which shows it): host CSS cannot reach it, and it cannot reach the host.
  const el = d.createElement("div");
  el.id = "overture-widget";
  const root = el.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`:host{all:initial;position:fixed;z-index:var(--ov-z,2147483000);bottom:var(--ov-y,20px);right:var(--ov-x,20px);font:15px/1.4 var(--ov-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--ov-text,#1b2330)}
:host([hidden]){display:none}:host(.left){right:auto;left:var(--ov-x,20px)}.l{width:60px;height:60px;border-radius:50%;border:0;background:var(--ov-launcher,#1f5fbf);color:var(--ov-launcher-ink,#fff);cursor:pointer;box-shadow:0 4px 14px #0004;display:grid;place-items:center;padding:0}
.l:focus-visible{outline:3px solid var(--ov-focus,#f59e0b);outline-offset:3px}.l svg{width:30px;height:30px;fill:currentColor}
[hidden]{display:none!important}`);
  root.adoptedStyleSheets = [sheet];
  const lang = (d.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  const launcher = d.createElement("button");
  launcher.className = "l";
  launcher.setAttribute("aria-label", { fr: "Ouvrir la discussion", de: "Chat öffnen" }[lang] || "Open chat");
  launcher.setAttribute("aria-haspopup", "dialog");
  launcher.setAttribute("aria-expanded", "false");
  // The icon comes drawn in the visit answer (appearance.launcher.icon_path); until then, the default one.
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" fill-rule="evenodd"><path d="__DEFAULT_ICON__"/></svg>';
  const teaser = d.createElement("button");
  teaser.className = "t";
  teaser.hidden = true;
  root.append(teaser, launcher);
  el.hidden = true;

  let appearance = {}, chosen = null, disarm = () => {}, loading = null, href = location.href;
  const ctx = {
    host, site, V, root, launcher, teaser, store, request, emit, lang, el,
    appearance: () => appearance,
    visitorId: () => store.get("vid"),
    dialogue: () => chosen,
    // The panel asks for consent while it is missing; accepting there is Overture.consent(true), then the visit.
    pending: () => !allowed(),
    accept: () => Promise.resolve(w.Overture.consent(true)).then(() => chosen),
  };
  const panel = () => loading || (loading = new Promise((ok, ko) => {
    w.Overture._panel = (make) => ok(make(ctx));
    const s = d.createElement("script");
    s.src = host + "/widget/panel.js?v=" + V;
    s.nonce = me.nonce;
    s.onerror = () => { loading = null; ko(new Error("Overture panel")); };
    d.head.append(s);
  }));
  launcher.onclick = teaser.onclick = () => panel().then((p) => p.toggle(chosen));

  const colour = (v) => (typeof v === "string" && /^#[0-9a-f]{3,8}$/i.test(v) ? v : null);
  // The launcher's look, worked out by the server (its icon's colour and path); the panel's colours, font and
  // radius are the panel's to apply (panel.js).
  const applyLook = (a) => {
    appearance = a && typeof a === "object" ? a : {};
    const c = appearance.colors || {}, l = appearance.launcher || {}, css = el.style;
    if (colour(c.launcher)) css.setProperty("--ov-launcher", c.launcher);
    if (colour(l.ink)) css.setProperty("--ov-launcher-ink", l.ink);
    el.classList.toggle("left", l.position === "bottom-left");
    for (const [k, p] of [["offset_x", "--ov-x"], ["offset_y", "--ov-y"]]) if (Number.isFinite(l[k])) css.setProperty(p, l[k] + "px");
    if (Number.isFinite(appearance.z_index)) css.setProperty("--ov-z", appearance.z_index);
    if (typeof l.icon_path === "string") launcher.querySelector("path").setAttribute("d", l.icon_path);
  };

  // Triggers run here, as the server describes them; each returns how to stop listening.
  const arm = (t, fire) => {
    const offs = [], ms = (t.seconds || 0) * 1000;
    let done = false;
    const off = () => offs.splice(0).forEach((f) => f());
    const go = () => { if (!done) { done = true; off(); fire(); } };
    const listen = (target, names, fn) => names.split(" ").forEach((n) => {
      target.addEventListener(n, fn, { passive: true });
      offs.push(() => target.removeEventListener(n, fn));
    });
    const later = (ms) => { const id = setTimeout(go, ms); offs.push(() => clearTimeout(id)); return id; };
    switch (t.on) {
      case "time_on_page": later(ms); break;
      case "time_on_site": later(Math.max(0, ms - (Date.now() - +store.get("t0")))); break;
      case "scroll_percent": {
        const seen = () => {
          const e = d.documentElement;
          if (((w.scrollY + w.innerHeight) / Math.max(e.scrollHeight, 1)) * 100 >= (t.percent || 0)) go();
        };
        listen(w, "scroll resize", seen);
        seen();
        break;
      }
      case "exit_intent": listen(d, "mouseout", (e) => { if (!e.relatedTarget && e.clientY <= 0) go(); }); break;
      case "idle": {
        let id = later(ms);
        listen(w, "mousemove keydown scroll touchstart pointerdown", () => { clearTimeout(id); id = later(ms); });
        break;
      }
      default: go();
    }
    return () => { done = true; off(); };
  };

  const visit = async () => {
    if (!allowed()) return;
    started = true;
    disarm();
    // A page with data-overture-flow or data-overture-inline elements: the panel takes them over (panel.js).
    if (d.querySelector("[data-overture-flow],[data-overture-inline]")) panel().then((p) => p.page());
    // Time on site counts from the session's first page; a session ends after 30 minutes without a page.
    const now = Date.now();
    if (!(now - +store.get("seen") < 1800000)) store.set("t0", now);
    store.set("seen", now);
    const r = await request("POST", "/api/v1/widget/visit", {
      site, visitor_id: store.get("vid"), url: location.href, referrer: d.referrer || null,
      page_language: /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(d.documentElement.lang) ? d.documentElement.lang : null,
      browser_languages: (navigator.languages || []).filter((l) => /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(l)).slice(0, 10),
      device: w.innerWidth < 768 ? "mobile" : "desktop", consent: given,
    });
    if (!r || r.status !== 200 || !allowed()) return;
    const { visitor_id, dialogue, conversation } = r.data;
    store.set("vid", visitor_id);
    applyLook(r.data.appearance);
    if (loading) loading.then((p) => p.relook());
    const busy = loading && (await loading).busy();
    if (conversation) {
      chosen = conversation.dialogue;
      el.hidden = false;
      (await panel()).resume(conversation);
    } else if (dialogue) {
      chosen = dialogue.key;
      el.hidden = false;
      disarm = arm(dialogue.trigger || {}, () => {
        emit("triggered", { dialogue: dialogue.key });
        panel().then((p) => p.trigger(dialogue.key));
      });
    } else if (!busy) {
      chosen = null;
      el.hidden = teaser.hidden = true;
    }
  };

  // Single-page apps: a new address through the History API is a new page view.
  const moved = () => {
    const was = href.split("#")[0];
    href = location.href;
    if (href.split("#")[0] !== was) visit();
  };
  for (const m of ["pushState", "replaceState"]) {
    const original = history[m];
    history[m] = function (...args) { const out = original.apply(this, args); moved(); return out; };
  }
  w.addEventListener("popstate", moved);

  const api = (w.Overture = Object.assign(w.Overture || {}, {
    site,
    on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); return () => handlers[name].splice(handlers[name].indexOf(fn) >>> 0, 1); },
    open(key) { el.hidden = false; return panel().then((p) => p.open(key || chosen)); },
    // The visitor's consent, from the host page (its consent banner): true starts recording, false stops it and
    // forgets the visitor id and everything else the widget stored in this browser.
    consent(yes) {
      if (yes) {
        withdrawn = false;
        given = true;
        store.set("consent", "yes");
        return started ? Promise.resolve() : visit();
      }
      withdrawn = true;
      given = started = false;
      store.forget();
      disarm();
      chosen = null;
      el.hidden = teaser.hidden = true;
      if (loading) loading.then((p) => p.withdraw(), () => {});
      return Promise.resolve();
    },
    async identify(who) {
      const r = await request("POST", "/api/v1/widget/identify", { site, visitor_id: store.get("vid"), email: who && who.email, signature: who && who.signature, consent: given });
      if (r && r.status < 300) { if (r.data && r.data.visitor_id) store.set("vid", r.data.visitor_id); visit(); return true; }
      return false;
    },
  }));
  const mount = () => {
    d.body.append(el);
    applyLook();
    if (typeof early === "boolean") api.consent(early);
    else if (allowed()) { if (!started) visit(); }
    // No consent yet: the launcher alone, whose panel asks for it.
    else el.hidden = false;
  };
  d.body ? mount() : d.addEventListener("DOMContentLoaded", mount);
})();
