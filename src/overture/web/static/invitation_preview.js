// The invitation body editor of a site: the preview follows the text as it is typed. Without JavaScript the
// Preview button posts the form and the page comes back with the preview.
document.querySelectorAll("form[data-preview-url]").forEach((form) => {
  const body = form.querySelector("textarea[name=invitation_body]");
  let timer = null;
  let latest = 0;
  const refresh = async () => {
    const asked = ++latest;
    const response = await fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form) });
    if (!response.ok || asked !== latest) return; // an older answer must not replace a newer one
    const current = document.getElementById("invitation-preview");
    current.outerHTML = await response.text();
    const problem = document.getElementById("invitation-preview").dataset.problem === "true";
    body.setAttribute("aria-invalid", problem ? "true" : "false");
  };
  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => {}), 300);
  });
});
