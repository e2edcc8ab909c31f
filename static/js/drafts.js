// Keeps what is typed into a form with data-draft-key in this browser tab (sessionStorage,
// gone when the tab closes, so nothing lingers on a shared computer). The server autosaves
// log entries too; this copy covers every form's last keystrokes before a session ends. After
// signing in again, the form is refilled from whichever copy is newer. A saved form, or
// signing out, clears it (the server marks that with data-clear-draft).

const PREFIX = "draft:";
const SKIP = new Set(["csrf_token", "draft_key", "version", "kind", "action"]);
const TYPED = new Set(["text", "search", "tel", "email", "number"]);

function fieldsOf(form) {
  return [...form.elements].filter(
    (el) => el.name && !SKIP.has(el.name) && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      TYPED.has(el.type) || el.type === "radio" || el.type === "checkbox"),
  );
}

function isChoice(el) {
  return el.type === "radio" || el.type === "checkbox";
}

function remember(form) {
  const values = {};
  for (const el of fieldsOf(form)) {
    if (isChoice(el)) values[`${el.name}=${el.value}`] = el.checked;
    else values[el.name] = el.value;
  }
  sessionStorage.setItem(PREFIX + form.dataset.draftKey, JSON.stringify({ at: Date.now(), values }));
}

function restore(form) {
  const stored = JSON.parse(sessionStorage.getItem(PREFIX + form.dataset.draftKey) || "null");
  if (!stored || stored.at <= Number(form.dataset.draftSavedAt || 0)) return;
  let restored = false;
  for (const el of fieldsOf(form)) {
    const key = isChoice(el) ? `${el.name}=${el.value}` : el.name;
    if (!(key in stored.values)) continue;
    if (isChoice(el) && el.checked !== stored.values[key]) {
      el.checked = stored.values[key];
      restored = true;
    } else if (!isChoice(el) && el.value !== stored.values[key]) {
      el.value = stored.values[key];
      restored = true;
    }
  }
  const status = form.querySelector("#draft-status");
  if (restored && status) status.textContent = "We restored what you were typing in this tab.";
}

function clearMarked(scope) {
  for (const marker of scope.querySelectorAll("[data-clear-draft]")) {
    const key = marker.dataset.clearDraft;
    for (const name of Object.keys(sessionStorage)) {
      if (name === PREFIX + key || (key === "*" && name.startsWith(PREFIX))) sessionStorage.removeItem(name);
    }
  }
}

function watch(scope) {
  clearMarked(scope);
  for (const form of scope.querySelectorAll("form[data-draft-key]")) {
    if (form.dataset.draftWatched) continue;
    form.dataset.draftWatched = "yes";
    restore(form);
    form.addEventListener("input", () => remember(form));
    form.addEventListener("change", () => remember(form));
  }
}

watch(document);
// Forms and markers that htmx swaps in (the log's panel, the sign-off dialog) are handled too.
document.addEventListener("htmx:afterSettle", (event) => watch(event.detail.elt.parentElement || document));
