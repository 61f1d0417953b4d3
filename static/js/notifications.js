// The live notifications page: a notification pushed on the page's one socket goes to the top of the
// list, and "Mark all as read" works without a reload. Text is only ever set through textContent.
import { live } from "./live.js";

const list = document.getElementById("notification-list");
const markRead = document.getElementById("mark-read");

const ACTIONS = {
  follow: "followed you",
  like: "liked your post",
  reply: "replied",
  repost: "reposted your post",
  mention: "mentioned you",
};

function when(iso) {
  const date = new Date(iso);
  const day = date.toLocaleDateString("en-US", { month: "short", day: "numeric" });
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  return `${day}, ${time}`;
}

function notificationElement(notification) {
  const item = document.createElement("li");
  item.className = "card";
  if (!notification.read) item.classList.add("unread");
  item.dataset.id = notification.id;
  const actor = document.createElement("a");
  actor.href = `/u/${encodeURIComponent(notification.actor.username)}/`;
  actor.textContent = notification.actor.display_name || notification.actor.username;
  const stamp = document.createElement("span");
  stamp.className = "muted small";
  stamp.textContent = `· ${when(notification.created_at)}`;
  item.append(actor, ` ${ACTIONS[notification.kind] || ""} `, stamp);
  if (notification.post) {
    const body = document.createElement("div");
    body.className = "post-body";
    const link = document.createElement("a");
    link.href = `/p/${Number(notification.post.id)}/`;
    const text = notification.post.body || "(repost)";
    link.textContent = text.length > 140 ? `${text.slice(0, 139)}…` : text;
    body.append(link);
    item.append(body);
  }
  return item;
}

live.onFrame((frame) => {
  if (frame.type !== "notification" || !frame.notification) return;
  if (list.querySelector(`[data-id="${Number(frame.notification.id)}"]`)) return;
  document.getElementById("no-notifications")?.remove();
  list.prepend(notificationElement(frame.notification));
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
