// The theme switch on the settings page: a pick shows at once (<html data-theme>) and is saved in
// the `theme` cookie by posting the same form the page has without JavaScript (config/theme.py),
// so the next page is served in it from its first byte.
const form = document.getElementById("theme-form");

function apply(value) {
  const root = document.documentElement;
  if (value === "light" || value === "dark") root.dataset.theme = value;
  else delete root.dataset.theme;
  document.querySelector('meta[name="color-scheme"]')?.setAttribute("content", root.dataset.theme || "light dark");
}

if (form) {
  const save = form.querySelector("[data-theme-save]");
  const status = document.createElement("span");
  status.className = "muted small";
  status.setAttribute("role", "status");
  save.after(status);
  save.hidden = true; // the radios save themselves
  form.addEventListener("change", async (event) => {
    if (event.target.name !== "theme") return;
    apply(event.target.value);
    status.textContent = "";
    const answer = await fetch(form.action, { method: "POST", body: new FormData(form), redirect: "manual" });
    // A redirect (opaque here) is the view's success; anything else said no.
    status.textContent = answer.type === "opaqueredirect" || answer.ok ? "Saved." : "Not saved: try the button.";
    if (status.textContent !== "Saved.") save.hidden = false;
  });
}

// The feed's floating compose button: to the compose box, cursor in it.
for (const link of document.querySelectorAll("[data-compose]")) {
  link.addEventListener("click", (event) => {
    const box = document.querySelector(link.getAttribute("href"));
    if (!box) return;
    event.preventDefault();
    box.scrollIntoView({ block: "center" });
    box.focus();
  });
}
