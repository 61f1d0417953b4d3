// Live Subscriptions: a `broadcast.new` (no seq: broadcasts are stored once, never per subscriber)
// lights the chat list's one "Subscriptions" row and, on /chat/subscriptions/, the channel's own row,
// and moves it to the top. It never touches the main chat badge (live.js counts message.new only).
import { live } from "./live.js";

function bump(badge) {
  if (!badge) return;
  badge.textContent = String(Number(badge.textContent || 0) + 1);
}

function preview(frame) {
  const name = frame.conversation.title || frame.broadcast.channel.username;
  return { name, text: frame.broadcast.title };
}

function onBroadcast(frame) {
  const { name, text } = preview(frame);
  const entry = document.getElementById("subscriptions-entry");
  if (entry) {
    bump(entry.querySelector(".subscriptions-badge"));
    const line = entry.querySelector(".preview");
    line.textContent = "";
    const who = document.createElement("bdi");
    who.textContent = name;
    line.append(who, `: ${text}`);
    entry.parentElement.prepend(entry);
  } else if (document.getElementById("conversation-list")) {
    location.reload(); // a first subscription's first broadcast: the row is the server's to draw
  }
  const list = document.getElementById("subscription-list");
  if (list) {
    const row = list.querySelector(`[data-channel-conversation="${frame.conversation.id}"]`);
    if (!row) return location.reload();
    bump(row.querySelector(".badge"));
    row.querySelector(".preview").textContent = text;
    list.prepend(row);
  }
}

live.onFrame((frame) => {
  if (frame.type === "broadcast.new" && frame.broadcast && frame.conversation) onBroadcast(frame);
});
