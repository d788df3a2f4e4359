/* Overture's chat panel, loaded by overture.js when a dialogue is about to show. The server decides, the panel
   renders: messages one after another, the input the server expects (a slot picker for meeting times), back,
   restart, dismiss and minimize.
   Whatever the visitor or the server writes is set as text (textContent), never parsed as HTML. */
(() => {
  "use strict";
  const LABELS = {
    en: {
      title: "Chat", messages: "Messages", answer: "Type your answer", placeholder: "Type your answer…", send: "Send",
      close: "Close the conversation", minimize: "Minimize", back: "Go back one step", restart: "Start over",
      retry: "Try again", offline: "We cannot reach the server right now. Nothing you typed is lost.",
      ended: "This conversation has ended.", privacy: "Privacy policy", choices: "Your options",
      lost: "This conversation is no longer available.", off: "Chat is not available right now.", you: "You", bot: "Bot",
      pick: "Pick a time", days: "Days", zone: "Times in %", min: "% min", with: " with %", booking: "Booking…",
      booked: "Meeting booked", meet: "With %", sent: "Invitation sent to %",
      consent: "To chat, this site keeps an id in your browser and records the pages you visit here and what you write in the chat. Do you agree?",
      accept: "Accept and chat", decline: "No thanks",
    },
    fr: {
      title: "Discussion", messages: "Messages", answer: "Saisissez votre réponse", placeholder: "Saisissez votre réponse…",
      send: "Envoyer", close: "Fermer la conversation", minimize: "Réduire", back: "Revenir d'une étape",
      restart: "Recommencer", retry: "Réessayer",
      offline: "Le serveur est injoignable pour le moment. Rien de ce que vous avez écrit n'est perdu.",
      ended: "Cette conversation est terminée.", privacy: "Politique de confidentialité", choices: "Vos choix",
      lost: "Cette conversation n'est plus disponible.", off: "La discussion n'est pas disponible pour le moment.",
      you: "Vous", bot: "Assistant",
      pick: "Choisissez un horaire", days: "Jours", zone: "Heures du fuseau %", min: "% min", with: " avec %",
      booking: "Réservation…", booked: "Rendez-vous réservé", meet: "Avec %", sent: "Invitation envoyée à %",
      consent: "Pour discuter, ce site garde un identifiant dans votre navigateur et enregistre les pages que vous visitez ici et ce que vous écrivez dans la discussion. Êtes-vous d'accord ?",
      accept: "Accepter et discuter", decline: "Non merci",
    },
    de: {
      title: "Chat", messages: "Nachrichten", answer: "Ihre Antwort eingeben", placeholder: "Ihre Antwort…",
      send: "Senden", close: "Unterhaltung schließen", minimize: "Minimieren", back: "Einen Schritt zurück",
      restart: "Neu beginnen", retry: "Erneut versuchen",
      offline: "Der Server ist gerade nicht erreichbar. Nichts von dem, was Sie geschrieben haben, geht verloren.",
      ended: "Diese Unterhaltung ist beendet.", privacy: "Datenschutzerklärung", choices: "Ihre Auswahl",
      lost: "Diese Unterhaltung ist nicht mehr verfügbar.", off: "Der Chat ist gerade nicht verfügbar.", you: "Sie",
      bot: "Assistent",
      pick: "Wählen Sie einen Termin", days: "Tage", zone: "Uhrzeiten in %", min: "% Min.", with: " mit %",
      booking: "Wird gebucht…", booked: "Termin gebucht", meet: "Mit %", sent: "Einladung gesendet an %",
      consent: "Für den Chat speichert diese Website eine Kennung in Ihrem Browser und erfasst die Seiten, die Sie hier besuchen, und was Sie im Chat schreiben. Sind Sie einverstanden?",
      accept: "Zustimmen und chatten", decline: "Nein danke",
    },
  };
  const TYPED = { text: "text", name: "text", email: "email", phone: "tel", number: "text" };
  const KEYBOARD = { email: "email", phone: "tel", number: "decimal", text: "text", name: "text" };
  const AUTOFILL = { email: "email", phone: "tel", name: "given-name" };
  const API = "/api/v1/widget/conversations";
  // The visitor's time zone, sent with each answer: meeting times are offered on their clock.
  const zone = () => {
    try {
      const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
      return /^[\w+\/-]{1,64}$/.test(z) ? z : undefined;
    } catch (e) { return undefined; }
  };
  // A date format in the first locale the browser takes. Offered times carry the visitor's own wall-clock time,
  // which is formatted as if it were UTC: what is shown is exactly what the server offered, whatever the zone.
  const dateFormat = (locales, o) => {
    for (const l of locales) try { return new Intl.DateTimeFormat(l, { timeZone: "UTC", ...o }).format; } catch (e) { /* next */ }
    return new Intl.DateTimeFormat("en", { timeZone: "UTC", ...o }).format;
  };
  const wall = (iso) => new Date(iso.slice(0, 16) + "Z");

  /* One element: attributes for aria-*, role and the like, properties for the rest (textContent, never HTML). */
  const h = (tag, props = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (/^(aria-|role$|id$|for$|data-)/.test(k)) e.setAttribute(k, v);
      else e[k] = v;
    }
    e.append(...kids);
    return e;
  };
  const safeUrl = (url, base) => {
    try {
      const u = new URL(url, base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) { return null; }
  };

  // The panel's colours, corner radius and font, as custom properties on a shadow host (the popup's or an inline
  // one's); the launcher's own look is the loader's.
  const restyle = (a, host) => {
    const c = a.colors || {}, f = a.font || {}, css = host.style;
    for (const k of ["header", "header_text", "bot_bubble", "bot_bubble_text", "visitor_bubble", "visitor_bubble_text", "buttons", "buttons_text", "text", "background"]) {
      const p = "--ov-" + k.replace(/_/g, "-"), v = c[k];
      typeof v === "string" && /^#[0-9a-f]{3,8}$/i.test(v) ? css.setProperty(p, v) : css.removeProperty(p);
    }
    Number.isFinite(a.corner_radius) ? css.setProperty("--ov-radius", a.corner_radius + "px") : css.removeProperty("--ov-radius");
    if (f.family === "inherit" || !f.family) css.setProperty("--ov-font", getComputedStyle(document.body).fontFamily);
    else if (f.family === "web" && /^[\w -]+$/.test(f.name || "") && /^https:\/\//.test(f.url || "")) {
      // The site chose a web font: its stylesheet is loaded once in the page, where the shadow roots see it.
      const link = document.querySelector("link[data-overture-font]") || document.head.appendChild(h("link", { rel: "stylesheet", "data-overture-font": "" }));
      if (link.href !== f.url) link.href = f.url;
      css.setProperty("--ov-font", `"${f.name}",system-ui,sans-serif`);
    } else css.removeProperty("--ov-font");
  };

  // The new-message sound: a short tone made on the spot (nothing to download), only once the visitor has
  // interacted with the page (browsers refuse audio before) and only when the site turned it on.
  // The visitor's own gestures are counted (a page opened by a script or a test counts none).
  const TONES = { chime: [[880, 0], [1320, 0.12]], pop: [[520, 0]], ding: [[1200, 0]] };
  let audio = null, acted = false;
  for (const n of ["pointerdown", "keydown"]) document.addEventListener(n, (e) => { acted = acted || e.isTrusted; }, true);
  const chirp = (sound) => {
    const tones = TONES[sound];
    if (!tones || !acted) return;
    try {
      audio = audio || new AudioContext();
      for (const [hz, at] of tones) {
        const o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime + at;
        o.frequency.value = hz;
        g.gain.setValueAtTime(0.12, t);
        g.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
        o.connect(g).connect(audio.destination);
        o.start(t);
        o.stop(t + 0.3);
      }
    } catch (e) { /* no audio on this device: silence */ }
  };

  /* One chat: the popup (inline = null) in the loader's shadow root, or one rendered inside a host page element
     (data-overture-inline="KEY") in its own shadow root, with its own conversation. */
  const make = (ctx, root, host, inline, channel) => {
    const L = LABELS[ctx.lang] || LABELS.en, look = () => ctx.appearance() || {};
    const calm = matchMedia("(prefers-reduced-motion: reduce)"), slot = inline ? "in_" + inline : "conv";
    let conv = null, expected = { kind: "none" }, sending = false, engaged = false, built = null, queue = Promise.resolve();
    // The meeting times offered last, and the day the visitor looks at.
    let offer = null, day = null;
    // Dates in the page's language, with the visitor's regional conventions when the browser speaks it too.
    const nav = navigator.language || "", page = document.documentElement.lang || "";
    const locales = [page.includes("-") ? page : nav.slice(0, 2).toLowerCase() === ctx.lang ? nav : ctx.lang, ctx.lang];
    const dayShort = dateFormat(locales, { weekday: "short", day: "numeric", month: "short" });
    const dayLong = dateFormat(locales, { weekday: "long", day: "numeric", month: "long" });
    const clock = dateFormat(locales, { timeStyle: "short" });
    // An inline chat takes the focus only once the visitor uses it: never on page load.
    let touched = !inline;

    try { conv = JSON.parse(ctx.store.get(slot) || "null"); } catch (e) { conv = null; }
    const save = () => ctx.store.set(slot, conv ? JSON.stringify(conv) : null);

    const css = ctx.sheet.then((sheet) => { root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet]; }).catch(() => {});

    // The header (the avatar or the bot's initial, the label, the bot's name) and the privacy link: drawn again
    // whenever the appearance changes.
    const dress = (u) => {
      const a = look(), bot = a.bot_name || L.bot, src = a.avatar_url && safeUrl(a.avatar_url, ctx.host);
      const privacy = a.privacy_policy_url && safeUrl(a.privacy_policy_url, location.href);
      u.title.textContent = a.header_label || bot;
      u.name.textContent = bot;
      u.name.hidden = u.title.textContent === bot;
      u.avatar.replaceChildren(src ? h("img", { src, alt: "" }) : [...bot][0].toUpperCase());
      u.footer.replaceChildren(...(privacy ? [h("a", { href: privacy, target: "_blank", rel: "noopener", textContent: L.privacy })] : []));
    };
    const build = () => {
      const title = h("h2", { id: "ov-title" }), name = h("p", { className: "name" });
      const avatar = h("span", { className: "avatar", "aria-hidden": "true" });
      const button = (cls, label, glyph) => h("button", { type: "button", className: "icon " + cls, title: label, "aria-label": label }, h("span", { "aria-hidden": "true", textContent: glyph }));
      const back = button("back", L.back, "←"), restart = button("restart", L.restart, "↻");
      const minimize = button("min", L.minimize, "–"), close = button("close", L.close, "×");
      const log = h("div", { className: "log", role: "log", "aria-live": "polite", "aria-label": L.messages, tabIndex: 0 });
      const typing = h("div", { className: "typing", hidden: true, "aria-hidden": "true" }, h("span"), h("span"), h("span"));
      const retry = h("button", { type: "button", className: "retry", textContent: L.retry });
      const status = h("div", { className: "status", role: "status" });
      const offline = h("div", { className: "offline", hidden: true }, h("p", { textContent: L.offline }), retry);
      const booking = h("p", { className: "booking", hidden: true, textContent: L.booking });
      status.append(offline, booking);
      const picker = h("div", { className: "picker", role: "group", "aria-labelledby": "ov-pick ov-zone", hidden: true });
      const choices = h("div", { className: "choices", role: "group", "aria-label": L.choices, hidden: true });
      const input = h("input", { className: "answer", id: "ov-answer", "aria-label": L.answer, placeholder: L.placeholder, maxLength: 2000, autocomplete: "off" });
      const send = h("button", { type: "submit", className: "send", textContent: L.send });
      const error = h("p", { className: "error", id: "ov-error", role: "alert" });
      const row = h("div", { className: "row", hidden: true }, input, send);
      const form = h("form", { className: "composer", noValidate: true }, picker, choices, row, error);
      const ended = h("p", { className: "ended", hidden: true, textContent: L.ended });
      // The consent prompt, on a site that requires consent, until the visitor accepts (or the page consents).
      const accept = h("button", { type: "button", className: "choice accept", textContent: L.accept });
      const decline = h("button", { type: "button", className: "choice", textContent: L.decline });
      const consent = h("div", { className: "consent", role: "group", "aria-labelledby": "ov-consent", hidden: true },
        h("p", { id: "ov-consent", textContent: L.consent }), h("div", { className: "choices" }, accept, decline));
      const footer = h("footer");
      const panel = h("section", { className: "panel", role: "dialog", "aria-labelledby": "ov-title", "aria-modal": "false", hidden: true },
        h("header", {}, avatar, h("div", { className: "who" }, title, name), back, restart, minimize, close),
        log, typing, status, consent, ended, form, footer);
      if (inline) { panel.className += " inline"; panel.hidden = false; panel.setAttribute("role", "region"); minimize.hidden = close.hidden = true; }
      root.append(panel);
      form.onsubmit = (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (text && !sending) reply({ text }, text);
      };
      back.onclick = () => step("back");
      restart.onclick = () => step("restart");
      minimize.onclick = () => hide(true);
      close.onclick = dismiss;
      panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); hide(true); } });
      const u = { panel, log, typing, offline, retry, booking, picker, choices, input, row, error, ended, back, restart, close, form, title, name, avatar, footer, consent, accept, decline };
      dress(u);
      return u;
    };
    const ui = () => built || (built = build());
    const apply = () => {
      restyle(look(), host);
      if (built) dress(built);
    };

    const isOpen = () => built && !built.panel.hidden;
    let opening = false; // Overture.open() called, the panel's styles still loading: the panel is as good as open
    const delay = () => {
      const ms = Number(look().response_delay_ms);
      return calm.matches || !isOpen() ? 0 : Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 5000) : 600;
    };
    const bubble = (who, text, url) => {
      const { log } = ui();
      const safe = url && safeUrl(url, location.href);
      const body = safe ? h("a", { href: safe, target: "_blank", rel: "noopener", textContent: text }) : text;
      if (safe) body.onclick = () => conv && ctx.request("POST", `${API}/${conv.id}/links`, { url }, conv.token, 1);
      const line = h("div", { className: "msg " + who }, h("span", { className: "sr", textContent: (who === "visitor" ? L.you : look().bot_name || L.bot) + ": " }), body);
      log.append(line);
      log.scrollTop = log.scrollHeight;
      return line;
    };
    const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));
    // Bot messages one after another, each after the typing indicator for the configured response time.
    const show = (messages) => (queue = queue.then(async () => {
      for (const m of messages) {
        const ms = delay();
        if (ms) { ui().typing.hidden = false; await pause(ms); ui().typing.hidden = true; }
        bubble(m.kind === "error" || m.kind === "notice" ? "bot " + m.kind : "bot", m.text, m.kind === "link" ? m.url : null);
      }
      if (messages.length) chirp(look().sound);
    }));
    // The confirmation card of a meeting just booked: when (on the visitor's clock), with whom, where the invitation
    // went. Queued with the messages, so it comes before the dialogue's own words after the booking.
    const confirm = (b) => (queue = queue.then(() => {
      const { log } = ui(), when = dayLong(wall(b.start)) + ", " + clock(wall(b.start)) + "–" + clock(wall(b.end));
      const card = h("div", { className: "booked", role: "status" },
        h("strong", { textContent: "✓ " + L.booked }), h("span", { textContent: when }),
        h("span", { className: "zone", textContent: L.zone.replace("%", b.zone) }),
        h("span", { textContent: L.meet.replace("%", b.agent_name) }), h("span", { textContent: L.sent.replace("%", b.email) }));
      log.append(card);
      log.scrollTop = log.scrollHeight;
    }));
    const redraw = (transcript) => {
      ui().log.replaceChildren();
      for (const entry of transcript || []) if (!entry.retracted) bubble(entry.role, entry.text);
    };
    const focusInput = () => {
      if (!isOpen() || !touched) return;
      const u = ui(), target = !u.consent.hidden ? u.accept : !u.row.hidden ? u.input : (!u.picker.hidden && u.picker.querySelector(".slot")) || u.choices.querySelector("button") || u.close;
      target.focus();
    };
    // The slot picker: a tab per day (arrow keys go from one to the next), that day's times as buttons. Picking a
    // time books it: there is no confirm step.
    const slots = () => {
      const u = ui(), days = offer.days;
      let at = Math.max(0, days.findIndex((d) => d.date === day));
      const times = h("div", { className: "times", role: "tabpanel", id: "ov-times" });
      const tabs = days.map((d, i) => {
        const b = h("button", { type: "button", className: "day", role: "tab", id: "ov-day" + i, "aria-controls": "ov-times", textContent: dayShort(new Date(d.date)) });
        b.onclick = () => choose(i);
        return b;
      });
      const choose = (i, focus) => {
        at = i;
        day = days[i].date;
        tabs.forEach((b, j) => { b.setAttribute("aria-selected", i === j); b.tabIndex = i === j ? 0 : -1; });
        times.setAttribute("aria-labelledby", "ov-day" + i);
        const long = dayLong(new Date(day));
        times.replaceChildren(...days[i].times.map((t) => {
          const shown = long + ", " + clock(wall(t));
          const b = h("button", { type: "button", className: "slot", textContent: clock(wall(t)), "aria-label": shown });
          b.onclick = () => reply({ start: t }, shown, "meeting");
          return b;
        }));
        if (focus) tabs[i].focus();
      };
      const list = h("div", { className: "days", role: "tablist", "aria-label": L.days }, ...tabs);
      list.onkeydown = (e) => {
        const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: tabs.length - 1 }[e.key];
        if (to === undefined) return;
        e.preventDefault();
        choose((to + tabs.length) % tabs.length, true);
      };
      const what = L.min.replace("%", offer.duration_minutes) + (offer.agent_name ? L.with.replace("%", offer.agent_name) : "");
      u.picker.replaceChildren(
        h("p", { id: "ov-pick" }, h("b", { textContent: L.pick }), " · " + what),
        h("p", { id: "ov-zone", className: "zone", textContent: L.zone.replace("%", offer.zone) }),
        list, times);
      if (tabs.length) choose(at);
    };
    const ask = (exp, meeting) => {
      const u = ui();
      expected = exp || { kind: "none" };
      offer = expected.kind === "meeting" && meeting && meeting.days ? meeting : null;
      u.picker.hidden = !offer;
      if (offer) slots();
      const typed = TYPED[expected.kind];
      u.choices.replaceChildren(...(expected.choices || []).map((c) => {
        const b = h("button", { type: "button", className: "choice", textContent: c.label });
        b.onclick = () => reply({ choice: c.id }, c.label);
        return b;
      }));
      u.choices.hidden = !u.choices.childElementCount;
      u.row.hidden = !typed;
      if (typed) {
        u.input.type = typed;
        u.input.inputMode = KEYBOARD[expected.kind];
        u.input.autocomplete = AUTOFILL[expected.kind] || "off";
        u.input.placeholder = expected.placeholder || L.placeholder;
      }
      const over = expected.kind === "none";
      u.ended.hidden = !over;
      u.form.hidden = over;
      u.back.disabled = u.restart.disabled = over;
    };
    const problem = (data) => (data && (data.error || (data.errors && data.errors[0] && data.errors[0].message))) || L.offline;
    const setError = (text) => {
      const u = ui();
      u.error.textContent = text || "";
      text ? u.input.setAttribute("aria-invalid", "true") : u.input.removeAttribute("aria-invalid");
      text ? u.input.setAttribute("aria-describedby", "ov-error") : u.input.removeAttribute("aria-describedby");
    };
    // The polite retry state: the server is down or slow; what the visitor typed stays in the input.
    const offline = (again) => {
      const u = ui();
      u.offline.hidden = !again;
      u.retry.onclick = again && (() => { u.offline.hidden = true; again(); });
      if (again && isOpen()) u.retry.focus();
    };

    // A conversation answer: remember where it stands, show the new messages, offer what comes next.
    const take = async (data, fresh) => {
      conv = { id: data.conversation_id, token: data.token || conv.token, step: data.step, dialogue: conv.dialogue, open: isOpen() };
      if (data.status !== "active") conv.over = data.status;
      save();
      if (fresh) redraw(data.transcript);
      if (data.booked) confirm(data.booked);
      await show(data.messages || []);
      ask(data.expected, data.meeting);
      // What the step did, for the host page's analytics: a captured field is named, never its value.
      for (const e of data.events || []) {
        const detail = { dialogue: conv.dialogue };
        if (e.goal) detail.goal = e.goal;
        if (e.field) detail.field = e.field;
        ctx.emit(e.type, detail);
      }
      focusInput();
    };

    // One start at a time: a trigger and a click on the launcher may both ask for the conversation.
    let starting = null;
    const begin = (key) => starting || (starting = start(key).finally(() => { starting = null; }));
    const start = async (key) => {
      if (conv && conv.id && conv.dialogue === key && !conv.over) {
        const r = await ctx.request("GET", `${API}/${conv.id}`, null, conv.token);
        if (!r) return offline(() => begin(key));
        if (r.status === 200) return take(r.data, true);
      }
      conv = { dialogue: key };
      const r = await ctx.request("POST", API, {
        dialogue: key, site: ctx.site, visitor_id: ctx.visitorId(), page_url: location.href.slice(0, 2000),
        languages: [document.documentElement.lang, ...(navigator.languages || [])].filter((l) => /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(l || "")).slice(0, 10),
        time_zone: zone(), consent: !ctx.pending(), ...(channel ? { channel } : {}),
      });
      if (!r) { conv = null; return offline(() => begin(key)); }
      // 409: the site's chat is switched off (no new conversation); anything else: this dialogue is gone.
      if (r.status !== 201) { conv = null; return bubble("bot error", r.status === 409 ? L.off : L.lost); }
      engaged = (r.data.transcript || []).some((e) => e.role === "visitor");
      return take(r.data, true);
    };

    // An answer: a click on a choice, a typed text, or a meeting time picked (path "meeting"), shown at once as the
    // visitor's message; the picker stays disabled (busy) until the server has answered, so a time books once.
    const reply = async (body, shown, path = "replies") => {
      if (sending || !conv || conv.over) return;
      sending = touched = true;
      setError("");
      offline(null);
      const u = ui(), mine = bubble("visitor", shown), picking = path === "meeting";
      u.choices.hidden = true;
      u.input.readOnly = true;
      const busy = (on) => {
        u.booking.hidden = !on;
        u.picker.setAttribute("aria-busy", on);
        for (const b of u.picker.querySelectorAll("button")) b.disabled = on;
      };
      if (picking) busy(true);
      const r = await ctx.request("POST", `${API}/${conv.id}/${path}`, { step: conv.step, time_zone: zone(), ...body }, conv.token);
      sending = false;
      u.input.readOnly = false;
      if (picking) { u.picker.hidden = r && r.status === 200; busy(false); }
      if (!r || r.status !== 200) {
        mine.remove();
        u.choices.hidden = !u.choices.childElementCount;
        if (!r) return offline(() => reply(body, shown, path));
        if (r.status === 409 && conv.step !== undefined) await begin(conv.dialogue);
        setError(problem(r.data));
        return focusInput();
      }
      if (!engaged) { engaged = true; ctx.emit("engaged", { dialogue: conv.dialogue }); }
      const refused = (r.data.messages || []).find((m) => m.kind === "error");
      if (body.text !== undefined && !refused) u.input.value = "";
      await take(r.data);
      if (refused) setError(refused.text);
    };

    // Back one step or start over: the server answers with the question again; the panel redraws its transcript.
    const step = async (move) => {
      if (sending || !conv || conv.over) return;
      sending = true;
      setError("");
      const r = await ctx.request("POST", `${API}/${conv.id}/${move}`, { step: conv.step }, conv.token);
      sending = false;
      if (!r) return offline(() => step(move));
      if (r.status !== 200) return setError(problem(r.data));
      if (move === "back") {
        const full = await ctx.request("GET", `${API}/${conv.id}`, null, conv.token);
        if (full && full.status === 200) return take(full.data, true);
      }
      if (move === "restart") ui().log.replaceChildren();
      return take(r.data);
    };

    const show_ = (focus) => {
      const u = ui();
      if (inline) return;
      u.panel.hidden = false;
      ctx.teaser.hidden = true;
      ctx.launcher.setAttribute("aria-expanded", "true");
      if (conv) { conv.open = true; save(); }
      if (focus) focusInput();
    };
    const hide = (focus) => {
      if (!built || inline) return;
      built.panel.hidden = true;
      ctx.launcher.setAttribute("aria-expanded", "false");
      if (conv) { conv.open = false; save(); }
      if (focus) ctx.launcher.focus();
    };
    async function dismiss() {
      const was = conv;
      hide(false);
      ctx.el.hidden = true;
      conv = null;
      save();
      if (was && was.id && !was.over) {
        ctx.emit("dismissed", { dialogue: was.dialogue });
        await ctx.request("POST", `${API}/${was.id}/dismiss`, null, was.token);
      }
    }
    const teaser = () => {
      const t = look().teaser || {}, mobile = innerWidth < 480;
      if (inline || t[mobile ? "mobile" : "desktop"] === false || isOpen()) return;
      // The site's teaser text, and under it what the bot just said (once it said something).
      const last = [...ui().log.querySelectorAll(".msg.bot")].pop(), words = last ? last.lastChild.textContent : "";
      if (!t.text && !words) return;
      ctx.teaser.replaceChildren(...(t.text ? [h("b", { textContent: t.text })] : []), ...(words ? [h("span", { textContent: words })] : []));
      ctx.teaser.hidden = false;
    };

    // No consent yet: the panel asks first (nothing is stored or sent before), then goes on to `key` or to the
    // dialogue the visit chose.
    const askConsent = (key) => new Promise((done) => {
      const u = ui();
      u.consent.hidden = false;
      u.form.hidden = true;
      u.back.disabled = u.restart.disabled = true;
      u.decline.onclick = () => { hide(true); done(); };
      u.accept.onclick = async () => {
        u.consent.hidden = true;
        u.back.disabled = u.restart.disabled = false;
        const chosen = await ctx.accept();
        const going = key || chosen;
        if (going) await begin(going);
        else bubble("bot error", L.off);
        focusInput();
        done();
      };
      focusInput();
    });

    return {
      // An open panel stays on a new page of a single-page app; otherwise the server's answer decides.
      busy: () => Boolean(opening || isOpen()),
      // The visit answer brought the site's appearance (an inline chat may have been drawn before it came).
      look: apply,
      async open(key) {
        opening = true;
        await css;
        apply();
        show_(true);
        opening = false;
        if (ctx.pending()) return askConsent(key);
        if (key && (!conv || conv.dialogue !== key || conv.over || !conv.id)) await begin(key);
        focusInput();
      },
      // Consent withdrawn: the chat closes and forgets its conversation (the loader forgot what was stored).
      withdraw() {
        conv = null;
        if (built) { hide(false); built.log.replaceChildren(); ask({ kind: "none" }); }
      },
      // The launcher or the teaser was clicked: the visitor acted.
      async toggle(key) { acted = true; return isOpen() ? hide(true) : this.open(key); },
      async trigger(key) {
        await css;
        apply();
        if (conv && conv.id && conv.dialogue === key && !conv.over && isOpen()) return;
        const wasOpen = conv && conv.dialogue === key && conv.open;
        await begin(key);
        wasOpen ? show_(false) : teaser();
      },
      // The visit answer names an engaged conversation: it goes on here, open if it was open.
      async resume(going) {
        await css;
        apply();
        if (conv && conv.id === going.conversation_id && built) return;
        if (!conv || conv.id !== going.conversation_id) conv = { dialogue: going.dialogue };
        const wasOpen = conv.open;
        await begin(going.dialogue);
        if (wasOpen) show_(false);
      },
    };
  };

  window.Overture._panel((ctx) => {
    // The stylesheet is fetched (connect-src) and adopted, so the host page's CSP needs no style-src for it.
    ctx.sheet = fetch(ctx.host + "/widget/panel.css?v=" + ctx.V).then((r) => r.text()).then((text) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      return sheet;
    });
    const popup = make(ctx, ctx.root, ctx.el, null);
    // The host page's own elements: data-overture-flow="KEY" opens that reusable flow in the popup on click;
    // data-overture-inline="KEY" shows it inside the element (the loader calls this on every page view).
    document.addEventListener("click", (e) => {
      const t = e.target.closest && e.target.closest("[data-overture-flow]");
      if (t) { e.preventDefault(); window.Overture.open(t.dataset.overtureFlow); }
    });
    const inlines = [];
    popup.relook = () => inlines.forEach((chat) => chat.look());
    popup.page = () => {
      for (const box of document.querySelectorAll("[data-overture-inline]")) {
        const key = box.dataset.overtureInline;
        if (box.overtureChat === key || !/^[a-z0-9][a-z0-9_-]*$/i.test(key)) continue;
        const host = h("div", { className: "ov-inline" });
        box.replaceChildren(host);
        box.overtureChat = key;
        // data-overture-channel="landing_page": the dialogue's full page (/chat/{site}/{dialogue}) says where it runs.
        const chat = make(ctx, host.attachShadow({ mode: "open" }), host, key, box.dataset.overtureChannel === "landing_page" && "landing_page");
        inlines.push(chat);
        chat.open(key);
      }
    };
    return popup;
  });
})();
