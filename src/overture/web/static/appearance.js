// The Appearance page: as the marketer types, the form is checked by the server (nothing saved), the contrast
// warnings follow, and the preview frames get the appearance the widget would get. Without JavaScript the page
// still saves, and shows the warnings and the preview of what was saved.
document.querySelectorAll("form[data-check-url]").forEach((form) => {
  const frames = [...document.querySelectorAll("iframe.preview-frame")];
  const status = document.getElementById("preview-status");
  let look = null;
  let timer = null;
  let latest = 0;
  const send = (frame) => {
    if (look && frame.contentWindow) frame.contentWindow.postMessage({ appearance: look }, location.origin);
  };
  // A frame that (re)loads after a change gets the form's appearance, not the saved one.
  frames.forEach((frame) => frame.addEventListener("load", () => send(frame)));

  const check = async () => {
    const asked = ++latest;
    const response = await fetch(form.dataset.checkUrl, { method: "POST", body: new FormData(form) });
    const data = await response.json();
    if (asked !== latest) return; // an older answer must not replace a newer one
    if (!data.ok) {
      const first = (data.errors || [])[0];
      status.textContent = "The preview waits for a valid form: " + (first ? `${first.path}: ${first.message}` : data.error);
      return;
    }
    status.textContent = "The preview shows your changes: they are not saved yet.";
    for (const warning of form.querySelectorAll(".contrast-warning[data-element]")) {
      const text = data.contrast[warning.dataset.element];
      warning.textContent = text ? "⚠ " + text : "";
      warning.hidden = !text;
    }
    look = data.appearance;
    // An automatic text colour shows the colour it stands for.
    for (const box of form.querySelectorAll("input[data-automatic]")) {
      if (box.checked) form.elements[box.dataset.automatic].value = look.colors[box.dataset.automatic.slice(7)];
    }
    frames.forEach(send);
  };

  form.addEventListener("input", (event) => {
    // Picking a text colour by hand turns its automatic colour off.
    const automatic = form.querySelector(`input[data-automatic="${event.target.name}"]`);
    if (automatic) automatic.checked = false;
    clearTimeout(timer);
    timer = setTimeout(() => check().catch(() => {}), 150);
  });
});
