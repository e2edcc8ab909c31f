// Starts the NHS.UK frontend components. Loaded as a module from a file so the Content
// Security Policy can forbid inline script. htmx is loaded separately and needs no start-up.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";
import "./drafts.js";

initAll();
// Components inside content that htmx swaps in need starting too.
document.addEventListener("htmx:afterSettle", (event) => initAll({ scope: event.detail.elt }));

// A dialog whose content htmx has just filled opens as a modal; its close button closes it.
document.addEventListener("htmx:afterSettle", (event) => {
  const dialog = event.detail.elt.closest?.("dialog") ?? null;
  if (dialog && !dialog.open) dialog.showModal();
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-close-dialog]");
  if (button) button.closest("dialog")?.close();
});
