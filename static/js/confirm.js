// Buttons that destroy something ask first: a submit button with data-confirm="question" (and
// data-confirm-yes="label") opens the page's <dialog id="confirm-dialog">; only "yes" submits, with
// that same button, so the server sees the same form as without JavaScript (which posts at once).
const dialog = document.getElementById("confirm-dialog");

if (dialog) {
  const approved = new WeakSet();
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (!button?.dataset.confirm || approved.has(button)) return;
    event.preventDefault();
    dialog.querySelector("#confirm-text").textContent = button.dataset.confirm;
    dialog.querySelector("#confirm-yes").textContent = button.dataset.confirmYes || "OK";
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue !== "yes") {
          button.focus();
          return;
        }
        approved.add(button);
        event.target.requestSubmit(button);
      },
      { once: true },
    );
    dialog.showModal();
  });
}
