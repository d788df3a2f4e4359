// The automation form: each action shows only the fields its type uses (without this script every field shows,
// and the server ignores those the type does not use).
"use strict";
document.querySelectorAll("[data-action]").forEach((action) => {
  const type = action.querySelector("[data-action-type]");
  const show = () => {
    action.querySelectorAll("[data-for]").forEach((field) => {
      field.hidden = !field.dataset.for.split(" ").includes(type.value);
    });
  };
  type.addEventListener("change", show);
  show();
});
