// Photos on a post or a reply (forms marked data-photos): the form still posts as it does without
// JavaScript, with the ids of its uploaded photos added as `media` fields; sending waits for the uploads,
// and the button says so meanwhile.
import { Attachments } from "./uploads.js";

for (const form of document.querySelectorAll("form[data-photos]")) {
  const body = form.querySelector("textarea");
  const button = form.querySelector("button[type=submit]");
  const label = button.textContent;
  const bodyRequired = body.required;
  // With photos, the text may be empty.
  const attachments = new Attachments(form, { onChange: () => (body.required = bodyRequired && !attachments.count) });
  let sending = false;

  form.addEventListener("submit", async (event) => {
    if (!attachments.count) return; // nothing to wait for: the form posts as usual
    event.preventDefault();
    if (sending) return;
    sending = true;
    button.setAttribute("aria-disabled", "true");
    if (attachments.uploading) button.textContent = "Waiting for photos…";
    try {
      const ids = await attachments.settle();
      for (const old of form.querySelectorAll("input[name=media]")) old.remove();
      for (const id of ids) {
        const field = document.createElement("input");
        field.type = "hidden";
        field.name = "media";
        field.value = String(id);
        form.append(field);
      }
      form.submit();
      return; // the page is on its way
    } catch (error) {
      attachments.say(error.message);
    }
    sending = false;
    button.removeAttribute("aria-disabled");
    button.textContent = label;
  });
}
