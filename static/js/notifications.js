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

const QUOTE_CHARS = 60; // the partial's truncatechars for the quoted post
const QUOTING_KINDS = new Set(["like", "reply", "repost"]);

// The post a notification is about, as the server picks it (microblog.selectors.notification_groups):
// the liked post, the post replied to, the post reposted (or the chain's root, if that one is mine).
async function subjectOf(notification) {
  const post = notification.post;
  if (!post) return null;
  if (notification.kind === "like") return post;
  const candidates = notification.kind === "reply" ? [post.reply_to] : [post.repost_of, post.original];
  const found = [];
  for (const id of candidates.filter(Boolean)) {
    const response = await fetch(`/api/posts/${Number(id)}/`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) found.push(await response.json());
  }
  return found.find((candidate) => candidate.author.username === document.body.dataset.me) || found[0] || null;
}

// A notification as the server renders it (templates/microblog/_notification.html), cloned from the
// page's <template> for its kind; a kind the page has no template for is left to the next reload.
async function notificationElement(notification) {
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
  if (QUOTING_KINDS.has(notification.kind)) {
    const subject = await subjectOf(notification);
    const link = item.querySelector(".subject");
    if (subject) link.href = `/p/${Number(subject.id)}/`;
    link.querySelector(".quote").textContent = truncate(subject?.body || "(no text)", QUOTE_CHARS);
  }
  const body = item.querySelector(".post-body");
  if (body) {
    if (notification.post && (notification.kind !== "repost" || notification.post.body)) {
      const link = body.querySelector("a");
      link.href = `/p/${Number(notification.post.id)}/`;
      link.textContent = truncate(notification.post.body || "", 140);
    } else {
      body.remove();
    }
  }
  return item;
}

// The Mentions tab takes only mentions and replies; the Requests tab has no list of notifications.
const MENTION_KINDS = new Set(["mention", "reply"]);

live.onFrame(async (frame) => {
  if (!list || frame.type !== "notification" || !frame.notification) return;
  if (list.dataset.tab === "mentions" && !MENTION_KINDS.has(frame.notification.kind)) return;
  if (list.querySelector(`[data-id="${Number(frame.notification.id)}"]`)) return;
  const item = await notificationElement(frame.notification);
  if (!item || list.querySelector(`[data-id="${Number(frame.notification.id)}"]`)) return;
  document.getElementById("no-notifications")?.remove();
  // Newest first, by id: a reply waits for the post it quotes, so a later frame may be drawn sooner.
  const older = [...list.querySelectorAll("[data-id]")].find((other) => Number(other.dataset.id) < Number(item.dataset.id));
  list.insertBefore(item, older || null);
});

markRead?.addEventListener("submit", async (event) => {
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
