// The live notifications page: a notification pushed on the page's one socket goes to the top of the
// list, and "Mark all as read" works without a reload. Items are clones of the server's own partial
// (templates.js); text is only ever set through textContent.
import { live } from "./live.js";
import { cloneTemplate } from "./templates.js";
import { relativeTime } from "./times.js";

const list = document.getElementById("notification-list");
const markRead = document.getElementById("mark-read");

// Django's truncatechars, in code points as the server counts: at most `limit`, the last one "…".
function truncate(text, limit) {
  const characters = [...text];
  return characters.length > limit ? `${characters.slice(0, limit - 1).join("")}…` : text;
}

// A notification as the server renders it (templates/microblog/_notification.html), cloned from the
// page's <template> for its kind; a kind the page has no template for is left to the next reload.
function notificationElement(notification) {
  const template = `template.notification-template[data-kind="${CSS.escape(String(notification.kind))}"]`;
  if (!document.querySelector(template)) return null;
  const item = cloneTemplate(template);
  if (!notification.read) item.classList.add("unread");
  item.dataset.id = notification.id;
  const actor = item.querySelector(".actor");
  actor.href = `/u/${encodeURIComponent(notification.actor.username)}/`;
  const avatarLink = item.querySelector(".actor-avatar");
  avatarLink.href = actor.href;
  avatarLink.querySelector(".avatar").src = notification.actor.avatar_url;
  actor.querySelector(".name").textContent = notification.actor.display_name || notification.actor.username;
  item.querySelector(".handle").textContent = `@${notification.actor.username}`;
  const time = item.querySelector("time");
  time.dateTime = notification.created_at;
  time.textContent = relativeTime(notification.created_at);
  const body = item.querySelector(".post-body");
  if (notification.post) {
    const link = body.querySelector("a");
    link.href = `/p/${Number(notification.post.id)}/`;
    if (notification.post.body) link.textContent = truncate(notification.post.body, 140); // else the template's "(repost)"
  } else {
    body.remove();
  }
  return item;
}

live.onFrame((frame) => {
  if (frame.type !== "notification" || !frame.notification) return;
  if (list.querySelector(`[data-id="${Number(frame.notification.id)}"]`)) return;
  const item = notificationElement(frame.notification);
  if (!item) return;
  document.getElementById("no-notifications")?.remove();
  list.prepend(item);
});

markRead.addEventListener("submit", async (event) => {
  event.preventDefault();
  const newest = Math.max(0, ...[...list.querySelectorAll("[data-id]")].map((item) => Number(item.dataset.id)));
  const response = await fetch("/api/notifications/read/", {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": markRead.querySelector("[name=csrfmiddlewaretoken]").value,
    },
    // Only what is on screen: a notification arriving meanwhile stays unread.
    body: JSON.stringify(newest > 0 ? { up_to: newest } : {}),
  });
  if (!response.ok) {
    markRead.submit(); // fall back to the form's own round trip
    return;
  }
  for (const item of list.querySelectorAll(".unread")) item.classList.remove("unread");
  live.setNotificationCount((await response.json()).unread);
});
