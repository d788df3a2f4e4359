// Copy buttons: <button data-copy="ID" hidden> copies the text of the element with that id (shown only with JS).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const status = button.parentElement.querySelector("[data-copy-status]");
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = "Copied.";
    } catch {
      window.getSelection().selectAllChildren(document.getElementById(button.dataset.copy));
      if (status) status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
});
