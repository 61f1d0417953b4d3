// The contacts page: a request that arrives live (contact.request on the page's one socket) joins
// "Requests for you" at once, cloned from the server's own partial (templates/chat/_contact_request.html),
// its text set through textContent only. Remove and Block ask first (confirm.js).
import "./confirm.js";
import { live } from "./live.js";
import { cloneTemplate } from "./templates.js";

const incoming = document.getElementById("incoming");

function requestElement(request) {
  const item = cloneTemplate("#request-template");
  item.dataset.request = request.id;
  const person = item.querySelector(".person");
  person.href = `/u/${encodeURIComponent(request.from_user.username)}/`;
  person.querySelector(".name").textContent = request.from_user.display_name || request.from_user.username;
  item.querySelector(".avatar").src = request.from_user.avatar_url;
  item.querySelector(".handle").textContent = `@${request.from_user.username}`;
  const note = item.querySelector(".note");
  note.textContent = request.note || "";
  note.hidden = !request.note;
  item.querySelector("input[name=request]").value = request.id;
  return item;
}

live.onFrame((frame) => {
  if (frame.type !== "contact.request" || !incoming) return;
  if (incoming.querySelector(`[data-request="${Number(frame.request.id)}"]`)) return;
  incoming.querySelector(".no-requests")?.remove();
  incoming.prepend(requestElement(frame.request));
});

// Accept and Decline in place on the notifications page's Requests tab (a list marked
// data-contact-requests): the same form posts through the API instead, and the row says what happened,
// with "Message" after an accept. The contacts page keeps its round trip, which also lists the new
// contact under "Your contacts"; without JavaScript both post to /contacts/.
function csrfToken(form) {
  return form.querySelector("[name=csrfmiddlewaretoken]")?.value ?? "";
}

async function apiPost(url, form, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(form) },
    body: JSON.stringify(body ?? {}),
  });
}

function submitPlainly(form, button) {
  const field = document.createElement("input");
  field.type = "hidden";
  field.name = button.name;
  field.value = button.value;
  form.append(field);
  form.submit();
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  const item = form.closest("[data-contact-requests] [data-request]");
  const button = event.submitter;
  if (!item || !button || !["accept", "decline"].includes(button.value)) return;
  event.preventDefault();
  const response = await apiPost(`/api/contact-requests/${encodeURIComponent(item.dataset.request)}/${button.value}/`, form);
  if (!response.ok) {
    submitPlainly(form, button);
    return;
  }
  const answer = await response.json();
  const done = document.createElement("span");
  done.className = "request-done";
  done.setAttribute("role", "status");
  if (button.value === "accept") {
    // live.js takes one off the Contacts badge when the server's contact.accepted frame arrives.
    done.textContent = "You are now contacts. ";
    const message = document.createElement("a");
    message.className = "button";
    message.href = `/chat/${Number(answer.conversation_id)}/`;
    message.textContent = "Message";
    done.append(message);
  } else {
    done.textContent = "Declined.";
    const badge = document.getElementById("contact-badge");
    live.setContactRequests(Math.max(0, (Number(badge?.textContent) || 0) - 1));
  }
  form.replaceWith(done);
  done.querySelector("a")?.focus();
});

// "Add contact" on a profile, in place: the request goes through the API and the button says so.
for (const form of document.querySelectorAll("form[data-add-contact]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    const response = await apiPost("/api/contact-requests/", form, { to: form.dataset.addContact });
    const answer = await response.json().catch(() => ({}));
    const said = document.createElement("span");
    said.setAttribute("role", "status");
    said.className = "request-done";
    if (response.ok) {
      said.textContent = answer.status === "accepted" ? "You are now contacts." : "Request sent.";
    } else {
      said.textContent = answer.detail || answer.error?.detail || "Could not send the request.";
      button.disabled = false;
      form.after(said);
      return;
    }
    form.replaceWith(said);
  });
}
