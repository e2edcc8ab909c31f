// Keeps what is typed into a form with data-draft-key in this browser tab (sessionStorage,
// gone when the tab closes, so nothing lingers on a shared computer). The server autosaves
// too; this copy covers the last keystrokes before a session ends. After signing in again,
// the form is refilled from whichever copy is newer. A saved form, or signing out, clears it.

const PREFIX = "draft:";
const SKIP = new Set(["csrf_token", "draft_key", "version", "kind"]);

function fieldsOf(form) {
  return [...form.elements].filter(
    (el) => el.name && !SKIP.has(el.name) && (el.tagName === "TEXTAREA" || ["text", "search", "tel", "email"].includes(el.type)),
  );
}

function remember(form) {
  const values = Object.fromEntries(fieldsOf(form).map((el) => [el.name, el.value]));
  sessionStorage.setItem(PREFIX + form.dataset.draftKey, JSON.stringify({ at: Date.now(), values }));
}

function restore(form) {
  const stored = JSON.parse(sessionStorage.getItem(PREFIX + form.dataset.draftKey) || "null");
  if (!stored || stored.at <= Number(form.dataset.draftSavedAt || 0)) return;
  let restored = false;
  for (const el of fieldsOf(form)) {
    if (el.name in stored.values && stored.values[el.name] !== el.value) {
      el.value = stored.values[el.name];
      restored = true;
    }
  }
  const status = form.querySelector("#draft-status");
  if (restored && status) status.textContent = "We restored what you were typing in this tab.";
}

for (const marker of document.querySelectorAll("[data-clear-draft]")) {
  const key = marker.dataset.clearDraft;
  for (const name of Object.keys(sessionStorage)) {
    if (name === PREFIX + key || (key === "*" && name.startsWith(PREFIX))) sessionStorage.removeItem(name);
  }
}

for (const form of document.querySelectorAll("form[data-draft-key]")) {
  restore(form);
  form.addEventListener("input", () => remember(form));
}
