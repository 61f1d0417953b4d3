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
