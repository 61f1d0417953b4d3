// The live chat page: messages, local echo by client_id, typing, read state, history, unread badges,
// photos. Messages, cards and galleries are clones of the server's own partials (templates.js); user text
// is only ever set through textContent, never parsed as HTML.
import { recount, stripLikeServer } from "./compose.js";
import { confirmed } from "./confirm.js";
import { live } from "./live.js";
import { galleryElement, setPlaceholder } from "./photos.js";
import { cloneTemplate, templateText } from "./templates.js";
import { dayKey, dayLabel, relativeTime } from "./times.js";
import { Attachments, Upload } from "./uploads.js";
import { markPlayed, voiceElement, voicePlayback, VoiceRecorder } from "./voice.js";

const root = document.getElementById("chat");
const conversationId = root.dataset.conversation ? Number(root.dataset.conversation) : null;
const me = document.body.dataset.me;
const list = document.getElementById("messages");
const composer = document.getElementById("composer");
const typingLine = document.getElementById("typing");
const readLine = document.getElementById("read-state");
const connection = document.getElementById("connection");
let othersReadUpTo = Number(root.dataset.readUpTo || 0);
let hasOlder = root.dataset.hasOlder === "true";
let typingTimer = null;
const unacknowledged = new Map(); // client_id -> message.send frame, until acked or refused
let lastTypingSent = 0;
const recallMs = Number(root.dataset.recallSeconds || 0) * 1000;
const memberNames = JSON.parse(document.getElementById("member-names")?.textContent || "{}");

// People are named as the header names them: display name first, else @username.
function shownName(username) {
  return memberNames[username] || `@${username}`;
}

function timeLabel(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

// A message as the server renders it (templates/chat/_message.html, cloned from #message-template).
function messageElement(message, { pending = false } = {}) {
  const item = cloneTemplate("#message-template");
  if (message.sender.username === me) item.classList.add("mine");
  if (pending) item.classList.add("pending");
  if (message.client_id) item.dataset.clientId = message.client_id;
  item.querySelector(".who .name").textContent = message.sender.display_name || message.sender.username;
  if (message.sender.avatar_url) item.querySelector(".who .avatar").src = message.sender.avatar_url;
  item.querySelector(".who .handle").textContent = `@${message.sender.username}`;
  fill(item, message);
  return item;
}

// A shared post's card as the server renders it (templates/chat/_card_post.html or _card_unavailable.html).
function postCard(card) {
  if (card.unavailable) return cloneTemplate("#card-unavailable-template");
  const link = cloneTemplate("#card-template");
  link.href = `/p/${Number(card.id)}/`;
  const image = link.querySelector(".card-image");
  if (card.image) {
    image.src = card.image.thumbnail_url;
    image.alt = card.image.alt || "";
    setPlaceholder(image, card.image.blurhash);
  } else {
    image.remove();
  }
  link.querySelector(".name").textContent = card.author.display_name || card.author.username;
  link.querySelector(".handle").textContent = `@${card.author.username}`;
  link.querySelector(".card-text").textContent = card.body;
  // Counted as the card's partial counts them: "1 reply · 2 reposts · 1 like".
  const counted = (count, one, many) => `${count} ${count === 1 ? one : many}`;
  link.querySelector(".replies").textContent = counted(card.reply_count, "reply", "replies");
  link.querySelector(".reposts").textContent = counted(card.repost_count, "repost", "reposts");
  link.querySelector(".likes").textContent = counted(card.like_count, "like", "likes");
  return link;
}

// An article shared into the chat, as this reader may read it (templates/chat/_card_article.html's shape).
function articleCard(card) {
  if (card.unavailable) {
    const gone = document.createElement("span");
    gone.className = "card-post article-card unavailable";
    gone.textContent = "This article is unavailable.";
    return gone;
  }
  const link = document.createElement("a");
  link.className = "card-post article-card";
  link.href = `/a/${Number(card.id)}/`;
  if (card.cover?.thumbnail_url) {
    const image = document.createElement("img");
    Object.assign(image, { className: "card-image", src: card.cover.thumbnail_url, alt: "", width: 64, height: 64 });
    link.append(image);
  }
  const label = document.createElement("span");
  label.className = "muted small";
  label.textContent = `Article · ${card.author.display_name || card.author.username}`;
  const title = document.createElement("strong");
  title.className = "article-card-title";
  title.textContent = card.title;
  const excerpt = document.createElement("span");
  excerpt.className = "card-text";
  excerpt.textContent = card.excerpt;
  link.append(label, " ", title, " ", excerpt);
  return link;
}

// "You recalled a message" / "Ann recalled a message" (templates/chat/_recalled.html).
function recalledText(message) {
  if (message.sender.username === me) return cloneTemplate("#recalled-mine");
  const text = cloneTemplate("#recalled-other");
  text.querySelector(".name").textContent = message.sender.display_name || message.sender.username;
  return text;
}

// The message this one answers, quoted above its text, when it is on the page.
function showQuote(item, message) {
  const quote = item.querySelector(".reply-quote");
  const target = message.reply_to && !message.recalled && list?.querySelector(`.msg[data-id="${Number(message.reply_to)}"]`);
  if (message.reply_to) item.dataset.replyTo = message.reply_to;
  if (!target) {
    if (message.recalled) quote.hidden = true;
    return;
  }
  quote.querySelector(".name").textContent = target.querySelector(".who .name").textContent;
  quote.querySelector(".quote-text").textContent = target.classList.contains("recalled")
    ? "…"
    : [...target.querySelector(".body").textContent].slice(0, 80).join("");
  quote.hidden = false;
}

function fill(item, message) {
  if (message.id) item.dataset.id = message.id;
  item.classList.toggle("recalled", Boolean(message.recalled));
  const body = item.querySelector(".body");
  if (message.recalled) body.replaceChildren(...recalledText(message).childNodes);
  else body.textContent = message.body;
  if (message.recalled && menu.owner === item) closeMenu();
  showQuote(item, message);
  const media = message.recalled ? [] : (message.media ?? []);
  const voice = media.length === 1 && media[0].kind === "audio" ? media[0] : null;
  showVoice(item, voice, message);
  showPhotos(item, voice ? [] : media);
  item.querySelector(".card-post")?.remove();
  if (message.shared_post) item.dataset.sharedPost = message.shared_post.id;
  if (message.shared_post && !message.recalled) item.querySelector(".body").after(postCard(message.shared_post));
  item.querySelector(".article-card")?.remove();
  if (message.shared_article && !message.recalled) item.querySelector(".body").after(articleCard(message.shared_article));
  if (message.created_at) {
    const time = item.querySelector("time");
    time.dateTime = message.created_at;
    time.textContent = timeLabel(message.created_at);
  }
}

// The photos of a message, after its text. A local echo's photos (the picked files) stay on screen
// until the server's copies have loaded in their place, so the bubble does not flash empty.
function showPhotos(item, media) {
  const old = item.querySelector(".gallery");
  if (old && !old.classList.contains("local") && media.length) return; // the server's photos never change
  if (!media.length) {
    old?.remove();
    return;
  }
  const gallery = galleryElement(media);
  if (old) {
    const local = [...old.querySelectorAll("img")];
    gallery.querySelectorAll("img").forEach((img, index) => {
      const shown = local[index]?.getAttribute("src");
      const wanted = img.src;
      if (!shown) return;
      img.src = shown;
      const swap = () => {
        img.src = wanted;
        if (shown.startsWith("blob:")) URL.revokeObjectURL(shown); // the picked file is no longer shown
      };
      const loader = new Image();
      loader.src = wanted;
      loader.decode().then(swap, swap);
    });
    old.replaceWith(gallery);
  } else {
    item.querySelector(".body").after(gallery);
  }
}

// A voice message's bubble (templates/chat/_voice.html), after its (empty) text. The dot shows until
// the reader plays it, never on their own; a recalled one loses its bubble (its clip is served to no one).
function showVoice(item, voice, message) {
  const old = item.querySelector(".voice");
  if (!voice) {
    if (old) {
      old.remove();
      playback?.forget(old);
    }
    return;
  }
  if (old && !old.classList.contains("local")) return; // the server's bubble never changes but for its dot
  const unplayed = message.sender.username !== me && message.played === false;
  const element = voiceElement(voice, { unplayed });
  if (old) old.replaceWith(element);
  else item.querySelector(".body").after(element);
}

// The reader played a voice message: the server keeps it (and tells the reader's other tabs).
function voicePlayed(element) {
  const id = element.closest(".msg[data-id]")?.dataset.id;
  if (!id) return;
  fetch(`/api/messages/${Number(id)}/played/`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": composer.querySelector("[name=csrfmiddlewaretoken]").value },
  }).catch(() => {}); // the dot is gone here; the next page load shows what the server kept
}

const playback = list ? voicePlayback(list, { onPlayed: voicePlayed }) : null;

// A message being sent with photos: the picked files, each with its upload's progress.
function localGallery(photos) {
  const gallery = galleryElement(
    photos.map(({ upload, alt }) => ({
      kind: upload.noun === "video" ? "video" : "image",
      local: true,
      url: upload.previewUrl,
      width: upload.width,
      height: upload.height,
      alt,
    })),
  );
  gallery.classList.add("local");
  gallery.querySelectorAll(".photo").forEach((cell, index) => {
    const { upload } = photos[index];
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.className = "upload-progress";
    const show = () => {
      progress.value = Math.round(upload.sent * 100);
      progress.hidden = upload.finished;
    };
    upload.onChange(show);
    show();
    cell.append(progress);
  });
  return gallery;
}

// A shared post's counts changed, or it became unavailable: the server sends each member the card
// they may see (shared_post.updated, not stored), and every message showing that post shows it.
function refreshCards(card) {
  for (const item of list?.querySelectorAll(`.msg[data-shared-post="${Number(card.id)}"]`) ?? []) {
    const old = item.querySelector(".card-post");
    if (old) old.replaceWith(postCard(card));
  }
}

function nearBottom() {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollToBottom() {
  list.scrollTop = list.scrollHeight;
}

function showMessage(message) {
  const existing =
    list.querySelector(`[data-id="${message.id}"]`) ||
    (message.client_id && list.querySelector(`[data-client-id="${CSS.escape(message.client_id)}"]`));
  if (existing) {
    existing.classList.remove("pending", "failed");
    fill(existing, message);
    showDays();
    return;
  }
  const stick = nearBottom() || message.sender.username === me;
  list.append(messageElement(message));
  showDays();
  if (stick) scrollToBottom();
}

function markRead() {
  if (!list || document.visibilityState !== "visible") return;
  const ids = [...list.querySelectorAll("[data-id]")].map((item) => Number(item.dataset.id));
  const newest = Math.max(0, ...ids);
  // Sent once the socket is open (a page opens before its socket does; onStatus calls again).
  if (newest > (markRead.sent || 0) && live.send({ type: "read", conversation: conversationId, up_to: newest })) {
    markRead.sent = newest;
  }
}

// "Read" under the last of my messages the others have read (not under theirs, not under an unread one).
function showReadState() {
  if (!readLine) return;
  const read = [...list.querySelectorAll(".msg.mine[data-id]")].filter(
    (item) => Number(item.dataset.id) <= othersReadUpTo,
  );
  const last = read[read.length - 1];
  if (last) {
    last.append(readLine);
    readLine.textContent = "Read";
  } else {
    readLine.textContent = "";
  }
}

// Day separators ("Today", "Yesterday", a date) between messages of different days, in the reader's
// own calendar (the server drew them in its timezone; this redraws them wherever they differ).
function showDays() {
  if (!list) return;
  const now = new Date();
  list.querySelectorAll(".day-separator").forEach((line) => line.remove());
  let previous = null;
  for (const item of list.querySelectorAll(".msg:not(.system)")) {
    const time = item.querySelector("time[datetime]");
    if (!time) continue;
    const key = dayKey(time.dateTime);
    if (key !== previous) {
      const line = document.createElement("li");
      line.className = "day-separator";
      line.append(Object.assign(document.createElement("span"), { textContent: dayLabel(time.dateTime, now) }));
      item.before(line);
    }
    previous = key;
  }
}

function updateListEntry(message) {
  const entry = document.querySelector(`#conversation-list [data-conversation="${message.conversation}"]`);
  if (!entry) {
    if (message.conversation !== conversationId) location.reload(); // a new conversation: fetch the list
    return;
  }
  entry.querySelector(".preview").textContent = message.recalled
    ? recalledText(message).textContent
    : message.body || previewWithoutText(message);
  const time = entry.querySelector(".last-time");
  if (time && message.created_at && !message.recalled) {
    time.replaceChildren(Object.assign(document.createElement("time"), { dateTime: message.created_at }));
    time.firstChild.dataset.when = "relative";
    time.firstChild.textContent = relativeTime(message.created_at);
  }
  entry.parentElement.prepend(entry);
  if (message.conversation !== conversationId && message.sender.username !== me) {
    const badge = entry.querySelector(".badge");
    badge.textContent = String(Number(badge.textContent || 0) + 1);
  }
}

function previewWithoutText(message) {
  const kind = message.media?.[0]?.kind;
  if (kind === "audio") return templateText("#voice-text");
  if (kind === "video") return templateText("#video-text");
  if (message.media?.length) return templateText("#photo-text");
  if (message.shared_article) return "Shared an article";
  return message.shared_post ? templateText("#shared-text") : "";
}

// Muted from another tab: the list shows the marker (live.js already keeps it out of the nav badge).
function showMuted(conversation, muted) {
  const entry = document.querySelector(`#conversation-list [data-conversation="${Number(conversation)}"]`);
  if (!entry) return;
  entry.classList.toggle("is-muted", muted);
  entry.querySelector(".muted-mark")?.remove();
  if (muted) entry.querySelector(".name").after(" ", cloneTemplate("#muted-mark-template"));
}

// Who came and went, as a line in the chat: "@ann added @bob", "You left this group", ...
function membersText({ by, added, removed }) {
  const names = (people) => people.map((name) => (name === me ? "you" : `@${name}`)).join(", ");
  const who = by === me ? "You" : `@${by}`;
  if (added.length) return `${who} added ${names(added)}`;
  if (removed.length === 1 && removed[0] === by) return by === me ? "You left this group" : `@${by} left`;
  return `${who} removed ${names(removed)}`;
}

// conversation.members: a line in the open chat; when the reader is the one who is out, their page
// stops offering to send (the server would refuse) and the chat list says so.
function showMembers(change) {
  const out = change.removed.includes(me);
  const entry = document.querySelector(`#conversation-list [data-conversation="${Number(change.conversation)}"]`);
  if (change.added.includes(me) && !entry && document.getElementById("conversation-list")) {
    location.reload(); // added to a group: fetch the list with it
    return;
  }
  if (out && entry) {
    entry.classList.add("is-gone");
    entry.querySelector(".preview").textContent = membersText(change);
  }
  if (change.conversation !== conversationId || !list) return;
  const line = document.createElement("li");
  line.className = "msg system";
  line.textContent = membersText(change);
  const stick = nearBottom();
  list.append(line);
  if (stick) scrollToBottom();
  if (out) {
    const input = composer.querySelector("textarea");
    input.disabled = true;
    input.placeholder = "You are no longer in this group.";
    composer.querySelector("button[type=submit]").disabled = true;
    composer.querySelector(".attach-input").disabled = true;
    const microphone = document.getElementById("voice-record");
    if (microphone) microphone.disabled = true;
    clearTimeout(typingTimer);
    typingLine.textContent = "";
  }
}

function onFrame(frame) {
  switch (frame.type) {
    case "message.new":
    case "message.recalled":
      if (frame.message) {
        updateListEntry(frame.message);
        if (frame.message.conversation === conversationId) {
          showMessage(frame.message);
          if (frame.message.sender.username !== me) {
            typingLine.textContent = "";
            markRead();
          }
          showReadState();
        }
      }
      break;
    case "message.ack":
      unacknowledged.delete(frame.client_id);
      if (frame.message.conversation === conversationId) showMessage(frame.message);
      showReadState();
      break;
    case "message.played": {
      // Played in another of the reader's tabs: the dot goes here too.
      const voice = list?.querySelector(`.msg[data-id="${Number(frame.message)}"] .voice.unplayed`);
      if (voice) markPlayed(voice);
      break;
    }
    case "message.hidden": {
      // Deleted for me in another of my tabs: it goes here too.
      const item = list?.querySelector(`.msg[data-id="${Number(frame.message)}"]`);
      if (item) removeLine(item);
      break;
    }
    case "conversation.muted":
      showMuted(frame.conversation, frame.muted);
      break;
    case "conversation.members":
      showMembers(frame);
      break;
    case "shared_post.updated":
      refreshCards(frame.shared_post);
      break;
    case "typing":
      if (frame.conversation === conversationId) {
        typingLine.textContent = `${shownName(frame.user)} is typing…`;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => (typingLine.textContent = ""), 3000);
      }
      break;
    case "read":
      if (frame.conversation === conversationId) {
        othersReadUpTo = Math.max(othersReadUpTo, frame.up_to);
        showReadState();
      }
      break;
    case "error":
      if (frame.client_id) {
        unacknowledged.delete(frame.client_id);
        const item = list.querySelector(`[data-client-id="${CSS.escape(frame.client_id)}"]`);
        if (item) failed(item, frame.detail);
      }
      break;
  }
}

live.onFrame(onFrame);
live.onStatus((status) => {
  if (connection) connection.textContent = status === "online" ? "" : "Reconnecting…";
  // Whatever was sent but not acknowledged goes again: the same client_id is stored once.
  if (status === "online") for (const frame of unacknowledged.values()) live.send(frame);
  if (status === "online" && conversationId !== null) markRead();
});

function failed(item, detail) {
  item.classList.remove("pending");
  item.classList.add("failed");
  item.title = detail;
}

// A message with photos goes out once they are uploaded and processed; its echo shows them meanwhile.
// An upload that fails fails the message, saying why.
async function sendWithPhotos(item, frame, photos) {
  try {
    await Promise.all(photos.map(({ upload, alt }) => upload.done.then(() => upload.saveAlt(alt))));
  } catch (error) {
    const reason = photos.find(({ upload }) => upload.error)?.upload.error || error.message;
    failed(item, reason);
    const line = document.createElement("p");
    line.className = "msg-error";
    line.setAttribute("role", "alert");
    line.textContent = reason;
    item.append(line);
    return;
  }
  frame.media = photos.map(({ upload }) => upload.media.id);
  unacknowledged.set(frame.client_id, frame);
  live.send(frame);
}

// The message menu: one list of actions (templates/chat/chat.html #message-menu), moved into the bubble
// whose "⋯" button opened it. Arrow keys move between its items; Escape closes it and gives the focus
// back to that button. Right-click or a long press on a bubble opens it too.
const menu = { element: document.getElementById("message-menu"), owner: null };
const notice = document.getElementById("message-notice");

function canRecall(item) {
  const time = item.querySelector("time[datetime]");
  return (
    item.classList.contains("mine") &&
    item.dataset.id &&
    !item.classList.contains("recalled") &&
    time &&
    Date.now() - new Date(time.dateTime) < recallMs
  );
}

function menuItems() {
  return [...menu.element.querySelectorAll("[role=menuitem]:not([hidden])")];
}

function openMenu(item) {
  const button = item.querySelector(".msg-actions");
  if (!menu.element || button.hidden) return;
  if (menu.owner) closeMenu({ focus: false });
  menu.owner = item;
  const action = (name) => menu.element.querySelector(`[data-action="${name}"]`);
  const recalled = item.classList.contains("recalled");
  action("copy").hidden = recalled || !item.querySelector(".body").textContent.trim();
  action("quote").hidden = recalled || !item.dataset.id;
  action("recall").hidden = !canRecall(item);
  action("hide").hidden = !item.dataset.id; // any message I see, mine or not, recalled or not
  if (!menuItems().length) {
    menu.owner = null;
    return;
  }
  button.after(menu.element);
  menu.element.hidden = false;
  button.setAttribute("aria-expanded", "true");
  menuItems()[0].focus();
}

function closeMenu({ focus = true } = {}) {
  const item = menu.owner;
  if (!item) return;
  menu.owner = null;
  menu.element.hidden = true;
  list.after(menu.element); // back out of the bubble, whose text stays its own
  const button = item.querySelector(".msg-actions");
  button.setAttribute("aria-expanded", "false");
  if (focus && !button.hidden) button.focus();
}

function say(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

async function recall(item) {
  const response = await fetch(`/api/messages/${Number(item.dataset.id)}/recall/`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": composer.querySelector("[name=csrfmiddlewaretoken]").value },
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(answer.detail || "The message could not be recalled.");
    return;
  }
  say("");
  showMessage(answer); // message.recalled follows on the socket, for the other tabs and members
  updateListEntry(answer);
}

// Delete for me: gone from this page at once, from my other tabs by `message.hidden`, and from what
// the server shows me from now on; the others keep it.
async function hideForMe(item) {
  const button = item.querySelector(".msg-actions");
  if (!(await confirmed("Delete this message for you? The others in the chat still see it.", "Delete"))) {
    button.focus();
    return;
  }
  // The focus goes on to the next message's menu button (or the composer), so a keyboard user is
  // not dropped at the top of the page. Found now: this tab's own `message.hidden` may remove the
  // line before the answer comes.
  const next = item.nextElementSibling?.closest(".msg[data-id]")?.querySelector(".msg-actions");
  const response = await fetch(`/api/messages/${Number(item.dataset.id)}/hide/`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": composer.querySelector("[name=csrfmiddlewaretoken]").value },
  });
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    say(answer.detail || "The message could not be deleted.");
    button.focus();
    return;
  }
  say("");
  if (item.isConnected) removeLine(item);
  (next?.isConnected ? next : composer.querySelector("textarea")).focus();
}

// A message hidden for me leaves the list (and the day separators and "Read" follow).
function removeLine(item) {
  if (menu.owner === item) closeMenu({ focus: false });
  item.remove();
  showDays();
  showReadState();
}

function quote(item) {
  const preview = document.getElementById("reply-preview");
  const field = document.getElementById("reply-to");
  field.value = item.dataset.id;
  field.disabled = false;
  preview.querySelector(".name").textContent = item.querySelector(".who .name").textContent;
  preview.querySelector(".quote-text").textContent = [...item.querySelector(".body").textContent].slice(0, 80).join("");
  preview.hidden = false;
  composer.querySelector("textarea").focus();
}

function clearQuote() {
  const field = document.getElementById("reply-to");
  field.value = "";
  field.disabled = true;
  document.getElementById("reply-preview").hidden = true;
}

if (menu.element) {
  list.addEventListener("click", (event) => {
    const button = event.target.closest(".msg-actions");
    if (!button) return;
    const item = button.closest(".msg");
    if (menu.owner === item) closeMenu();
    else openMenu(item);
  });
  list.addEventListener("contextmenu", (event) => {
    const item = event.target.closest(".msg[data-id]");
    if (!item || event.target.closest("a, img")) return; // links and photos keep the browser's own menu
    event.preventDefault();
    openMenu(item);
  });
  // A long press on a touch screen: held half a second without moving.
  let press = null;
  list.addEventListener("pointerdown", (event) => {
    const item = event.target.closest(".msg[data-id]");
    if (event.pointerType !== "touch" || !item) return;
    press = setTimeout(() => openMenu(item), 500);
  });
  for (const type of ["pointerup", "pointercancel", "pointermove"]) list.addEventListener(type, () => clearTimeout(press));
  menu.element.addEventListener("click", async (event) => {
    const choice = event.target.closest("[data-action]");
    const item = menu.owner;
    if (!choice || !item) return;
    const action = choice.dataset.action;
    closeMenu({ focus: action !== "quote" && action !== "hide" });
    if (action === "copy") {
      await navigator.clipboard.writeText(item.querySelector(".body").textContent).then(
        () => say(""),
        () => say("Copying was not allowed by the browser."),
      );
    } else if (action === "quote") {
      quote(item);
    } else if (action === "recall") {
      await recall(item);
    } else if (action === "hide") {
      await hideForMe(item);
    }
  });
  menu.element.addEventListener("keydown", (event) => {
    const items = menuItems();
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      closeMenu();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length].focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      items[event.key === "Home" ? 0 : items.length - 1].focus();
    } else if (event.key === "Tab") {
      closeMenu({ focus: false });
    }
  });
  document.addEventListener("click", (event) => {
    if (menu.owner && !menu.element.contains(event.target) && !event.target.closest(".msg-actions")) {
      closeMenu({ focus: false });
    }
  });
  document.getElementById("reply-cancel").addEventListener("click", () => {
    clearQuote();
    composer.querySelector("textarea").focus();
  });
}

async function loadOlder() {
  const first = list.querySelector("[data-id]");
  if (!hasOlder || !first || loadOlder.busy) return;
  loadOlder.busy = true;
  try {
    const response = await fetch(`/api/conversations/${conversationId}/messages/?before=${first.dataset.id}&limit=50`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const page = await response.json();
    const before = list.scrollHeight;
    list.prepend(...page.results.map((message) => messageElement(message)));
    showDays();
    list.scrollTop += list.scrollHeight - before; // keep what the reader was looking at in place
    hasOlder = page.older !== null;
  } finally {
    loadOlder.busy = false;
  }
}

if (conversationId !== null) {
  showDays();
  scrollToBottom();
  showReadState();
  markRead();
  document.addEventListener("visibilitychange", markRead);
  list.addEventListener("scroll", () => {
    if (list.scrollTop < 40) loadOlder();
  });
  const input = composer.querySelector("textarea");
  // With photos, the text may be empty.
  const attachments = new Attachments(composer, { onChange: () => (input.required = !attachments.count) });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTypingSent > 2000) {
      lastTypingSent = now;
      live.send({ type: "typing", conversation: conversationId });
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = stripLikeServer(input.value);
    const photos = attachments.count ? attachments.take() : [];
    if (photos === null || (!body && !photos.length)) return; // a failed photo must be removed first
    const clientId = crypto.randomUUID();
    const replyTo = document.getElementById("reply-to");
    const quoted = replyTo.disabled ? null : Number(replyTo.value);
    const sender = { username: me, display_name: memberNames[me] || "" };
    const echo = { client_id: clientId, body, reply_to: quoted, sender };
    const item = messageElement(echo, { pending: true });
    if (photos.length) item.querySelector(".body").after(localGallery(photos));
    list.append(item);
    scrollToBottom();
    const frame = { type: "message.send", conversation: conversationId, body, client_id: clientId };
    if (quoted) frame.reply_to = quoted;
    clearQuote();
    if (photos.length) {
      sendWithPhotos(item, frame, photos);
    } else {
      unacknowledged.set(clientId, frame);
      live.send(frame);
    }
    input.value = "";
    recount(input);
  });
  input.focus({ preventScroll: true }); // a chat opens ready to type

  // Voice messages: recorded with the microphone button, uploaded as kind "audio", then sent as a
  // message of that one upload, the way photos are. The echo shows the bubble meanwhile.
  const microphone = document.getElementById("voice-record");
  const voiceStatus = document.getElementById("voice-status");
  if (microphone) {
    const csrfToken = composer.querySelector("[name=csrfmiddlewaretoken]").value;
    new VoiceRecorder(microphone, {
      say: (text) => {
        voiceStatus.textContent = text;
        voiceStatus.hidden = !text;
      },
      onState: (recording) => composer.classList.toggle("recording", recording),
      onRecorded: (file, seconds) => {
        const upload = new Upload(file, csrfToken, { kind: "audio" });
        const clientId = crypto.randomUUID();
        const sender = { username: me, display_name: memberNames[me] || "" };
        const item = messageElement({ client_id: clientId, body: "", sender }, { pending: true });
        item.querySelector(".body").after(voiceElement({ duration: seconds }, { local: true }));
        list.append(item);
        showDays();
        scrollToBottom();
        const frame = { type: "message.send", conversation: conversationId, body: "", client_id: clientId };
        sendWithPhotos(item, frame, [{ upload, alt: "" }]);
      },
    });
  }
}
