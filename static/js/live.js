// The one socket of a signed-in page, shared by every live part of it: the navigation's
// unread badges (chat and notifications), the tab title, and page modules such as chat.js,
// which subscribe here instead of opening sockets of their own.
import { TandemSocket } from "./socket.js";

const body = document.body;
const me = body.dataset.me;
const chatBadge = document.getElementById("chat-badge");
const notificationBadge = document.getElementById("notification-badge");
const contactBadge = document.getElementById("contact-badge");
const contactBadgeText = document.getElementById("contact-badge-text");
const baseTitle = document.title;
const frameHandlers = [];
const statusHandlers = [];

function count(badge) {
  return Number(badge?.textContent) || 0;
}

function bump(badge) {
  if (!badge) return;
  badge.textContent = String(count(badge) + 1);
  showTotal();
}

function showTotal() {
  const total = count(chatBadge) + count(notificationBadge);
  document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
}

// Contact requests waiting for an answer: the number on Contacts, and words for screen readers.
function setContactRequests(waiting) {
  if (!contactBadge) return;
  contactBadge.textContent = waiting > 0 ? String(waiting) : "";
  contactBadgeText.textContent = waiting > 0 ? `${waiting === 1 ? "request" : "requests"} waiting` : "";
}

function trackContactRequests(frame) {
  if (frame.type === "contact.request") setContactRequests(count(contactBadge) + 1);
  // Answered (here or in another tab): one fewer waits for me.
  if (frame.type === "contact.accepted" && frame.request?.to_user?.username === me) {
    setContactRequests(count(contactBadge) - 1);
  }
}

// Muted chats (WeChat's "mute notifications"): their messages arrive and show, but raise no badge.
const mutedConversations = new Set(
  (body.dataset.mutedConversations || "").split(",").filter(Boolean).map(Number),
);

function trackMutes(frame) {
  if (frame.type !== "conversation.muted") return;
  if (frame.muted) mutedConversations.add(frame.conversation);
  else mutedConversations.delete(frame.conversation);
}

function raisesChatBadge(message) {
  const conversation = message.conversation;
  return message.sender.username !== me && conversation !== openConversation() && !mutedConversations.has(conversation);
}

function openConversation() {
  const chat = document.getElementById("chat");
  return chat?.dataset.conversation ? Number(chat.dataset.conversation) : null;
}

export const live = {
  socket: new TandemSocket({
    lastSeq: Number(body.dataset.lastSeq || 0),
    epoch: body.dataset.storeEpoch || null,
    onFrame(frame) {
      if (frame.type === "notification" && frame.notification) bump(notificationBadge);
      trackMutes(frame);
      trackContactRequests(frame);
      if (frame.type === "message.new" && frame.message && raisesChatBadge(frame.message)) bump(chatBadge);
      for (const handler of frameHandlers) handler(frame);
    },
    onStatus(status) {
      for (const handler of statusHandlers) handler(status);
    },
  }),
  onFrame(handler) {
    frameHandlers.push(handler);
  },
  onStatus(handler) {
    statusHandlers.push(handler);
  },
  send(frame) {
    return this.socket.send(frame);
  },
  opened(timeoutMs) {
    return this.socket.opened(timeoutMs);
  },
  setContactRequests,
  // The notifications page marks read without a reload, then says how many stay unread.
  setNotificationCount(unread) {
    if (!notificationBadge) return;
    notificationBadge.textContent = unread > 0 ? String(unread) : "";
    showTotal();
  },
};

showTotal();
