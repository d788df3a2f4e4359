// The visitor's reschedule page (templates/meeting_link.html). Without this script every day is a section of time
// buttons and the page works as a plain form; with it the days become tabs, as in the chat widget's picker: one
// day's times at a time, arrow keys (and Home / End) go from day to day. It also offers the device's time zone when
// the page shows another, and keeps a second press from moving the meeting twice.
"use strict";
(() => {
  const picker = document.querySelector("[data-picker]");
  if (picker) tabs(picker);
  deviceZone();
  const form = document.querySelector("[data-confirm]");
  if (form) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) event.preventDefault();
      form.dataset.sent = "1";
      form.setAttribute("aria-busy", "true");
    });
  }

  function tabs(root) {
    const days = Array.from(root.querySelectorAll("section.day"));
    if (days.length < 2) return;
    const list = document.createElement("div");
    list.className = "tabs";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", "Days");
    const buttons = days.map((day, i) => {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.className = "tab";
      tab.id = day.id + "-tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", day.id);
      tab.textContent = day.dataset.short;
      tab.addEventListener("click", () => choose(i, false));
      day.setAttribute("role", "tabpanel");
      day.setAttribute("aria-labelledby", tab.id);
      day.classList.add("panel");
      return tab;
    });
    list.append(...buttons);
    list.addEventListener("keydown", (event) => {
      const at = buttons.indexOf(document.activeElement);
      const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (at < 0 || to === undefined) return;
      event.preventDefault();
      choose((to + buttons.length) % buttons.length, true);
    });
    root.prepend(list);
    root.classList.add("tabbed");
    choose(0, false);

    function choose(i, focus) {
      buttons.forEach((tab, j) => {
        tab.setAttribute("aria-selected", String(i === j));
        tab.tabIndex = i === j ? 0 : -1;
        days[j].hidden = i !== j;
      });
      if (focus) {
        buttons[i].focus();
        buttons[i].scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
  }

  // "Your device is set to America/New_York: show the times there", when the page shows another zone it knows.
  function deviceZone() {
    const note = document.querySelector("[data-device-zone]");
    const select = document.getElementById("zone-choice");
    const shown = picker && picker.dataset.zone;
    let device = "";
    try { device = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!note || !select || !shown || !device || device === shown) return;
    if (!Array.from(select.options).some((option) => option.value === device)) return;
    const link = document.createElement("a");
    const url = new URL(window.location.href);
    url.searchParams.set("zone", device);
    link.href = url.pathname + url.search;
    link.textContent = "show the times in " + device;
    note.append("Your device is set to another time zone: ", link, ".");
    note.hidden = false;
  }
})();
