// Buttons that destroy something ask first: a submit button with data-confirm="question" (and
// data-confirm-yes="label") opens the page's <dialog id="confirm-dialog">; only "yes" submits, with
// that same button, so the server sees the same form as without JavaScript (which posts at once).
// Scripts that act without a form (the chat's message menu) ask through `confirmed`.
const dialog = document.getElementById("confirm-dialog");

// Resolves true when the person picked "yes"; false when they cancelled (Escape included).
export function confirmed(question, yes = "OK") {
  if (!dialog) return Promise.resolve(window.confirm(question));
  dialog.querySelector("#confirm-text").textContent = question;
  dialog.querySelector("#confirm-yes").textContent = yes;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
  });
}

if (dialog) {
  const approved = new WeakSet();
  document.addEventListener("submit", async (event) => {
    const button = event.submitter;
    if (!button?.dataset.confirm || approved.has(button)) return;
    event.preventDefault();
    if (!(await confirmed(button.dataset.confirm, button.dataset.confirmYes || "OK"))) {
      button.focus();
      return;
    }
    approved.add(button);
    event.target.requestSubmit(button);
  });
}
