// Every post's action bar (templates/microblog/_post_actions.html), without a page reload: the bar's own
// forms, which post to the page views without JavaScript, are sent through the REST API instead, and
// the counts take the server's answer. Reply opens under the post; Repost offers "Repost" or "Repost
// with comment" in a <dialog>; Like fills the heart (aria-pressed); Share picks one of your recent chats
// in a <dialog>. Loaded on every signed-in page (base.html); it acts only on action bars.
// User text only ever goes in through textContent.

function csrfToken(root) {
  return (
    root?.querySelector("[name=csrfmiddlewaretoken]")?.value ??
    document.querySelector("[name=csrfmiddlewaretoken]")?.value ??
    ""
  );
}

async function api(method, url, root, body) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken(root) };
  const init = { method, credentials: "same-origin", headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || "Something went wrong. Please try again.");
  return data;
}

// Each copy of the post on the page (a post can show twice: in search results and the timeline).
function bars(postId) {
  return document.querySelectorAll(`.post-actions[data-post="${Number(postId)}"]`);
}

function showCounts(post) {
  for (const bar of bars(post.id)) {
    const set = (selector, value) => {
      const element = bar.querySelector(selector);
      if (element && value !== undefined) element.textContent = String(value);
    };
    set(".count.replies", post.reply_count);
    set(".count.reposts", post.repost_count);
    set(".count.likes", post.like_count);
    bar.querySelector("button.like")?.setAttribute("aria-pressed", String(Boolean(post.liked)));
    bar.querySelector(".action-repost summary")?.classList.toggle("done", Boolean(post.reposted));
  }
}

async function refresh(postId, root) {
  showCounts(await api("GET", `/api/posts/${Number(postId)}/`, root));
}

function postIdOf(element) {
  return Number(element.closest(".post-actions").dataset.post);
}

// A short note for screen readers and eyes, near the control that caused it.
function say(bar, text) {
  let status = bar.querySelector(".action-status");
  if (!status) {
    status = document.createElement("span");
    status.className = "action-status muted small";
    status.setAttribute("role", "status");
    bar.append(status);
  }
  status.textContent = text;
}

// Like: the heart toggles at once, then takes the server's word (count and state).
async function like(form) {
  const button = form.querySelector("button.like");
  const liked = button.getAttribute("aria-pressed") === "true";
  button.disabled = true;
  try {
    showCounts(await api(liked ? "DELETE" : "POST", `/api/posts/${postIdOf(form)}/like/`, form));
  } catch (error) {
    say(form.closest(".post-actions"), error.message);
  } finally {
    button.disabled = false;
    button.focus();
  }
}

// Reply: sent from the box under the post; the box says it went, with a link to the reply.
async function reply(form) {
  const body = form.querySelector("textarea");
  const status = form.querySelector(".reply-status");
  const button = form.querySelector("button[type=submit]");
  const postId = postIdOf(form);
  button.disabled = true;
  try {
    const visibility = form.querySelector("[name=visibility]").value;
    const created = await api("POST", "/api/posts/", form, { body: body.value, reply_to: postId, visibility });
    body.value = "";
    status.replaceChildren("Replied. ");
    const link = document.createElement("a");
    link.href = `/p/${Number(created.id)}/`;
    link.textContent = "View your reply";
    status.append(link);
    await refresh(postId, form);
  } catch (error) {
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

// The frame both action dialogs share: a titled <dialog> with its body, a status line and a button
// that closes it, added to the page once.
function actionDialog(id, heading, closeLabel, ...body) {
  const dialog = document.createElement("dialog");
  dialog.className = "card action-dialog";
  dialog.id = id;
  dialog.setAttribute("aria-labelledby", `${id}-title`);
  const title = document.createElement("h2");
  title.id = `${id}-title`;
  title.textContent = heading;
  const status = document.createElement("p");
  status.className = "dialog-status muted small";
  status.setAttribute("role", "status");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link dialog-cancel";
  cancel.textContent = closeLabel;
  cancel.addEventListener("click", () => dialog.close());
  dialog.append(title, ...body, status, cancel);
  document.body.append(dialog);
  return dialog;
}

// Repost: one dialog for the page, filled for the post whose Repost was pressed.
let repostDialog = null;

function buildRepostDialog() {
  const choices = document.createElement("p");
  choices.className = "dialog-choices";
  const plain = document.createElement("button");
  plain.type = "button";
  plain.className = "repost-plain";
  plain.textContent = "Repost";
  const withComment = document.createElement("button");
  withComment.type = "button";
  withComment.className = "secondary repost-with-comment";
  withComment.textContent = "Repost with comment";
  choices.append(plain, withComment);
  const form = document.createElement("form");
  form.className = "repost-comment-form";
  form.hidden = true;
  const label = document.createElement("label");
  label.textContent = "Your comment";
  label.htmlFor = "repost-dialog-comment";
  const comment = document.createElement("textarea");
  comment.id = "repost-dialog-comment";
  comment.name = "comment";
  comment.rows = 3;
  comment.dir = "auto";
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = "Post repost";
  form.append(label, comment, send);
  const dialog = actionDialog("repost-dialog", "Repost", "Cancel", choices, form);

  withComment.addEventListener("click", () => {
    choices.hidden = true;
    form.hidden = false;
    comment.focus();
  });
  plain.addEventListener("click", () => repost(dialog, ""));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    repost(dialog, comment.value);
  });
  return dialog;
}

async function repost(dialog, comment) {
  const postId = Number(dialog.dataset.post);
  const status = dialog.querySelector(".dialog-status");
  try {
    // Stay here: the new repost is not opened (its page would greet you with Delete).
    await api("POST", `/api/posts/${postId}/repost/`, dialog.opener, { comment });
    await refresh(postId, dialog.opener);
    dialog.close();
    say(dialog.opener.closest(".post-actions"), comment ? "Reposted with your comment." : "Reposted.");
  } catch (error) {
    status.textContent = error.message;
  }
}

function openRepostDialog(details) {
  repostDialog ??= buildRepostDialog();
  const dialog = repostDialog;
  dialog.dataset.post = String(postIdOf(details));
  dialog.opener = details;
  dialog.querySelector(".dialog-choices").hidden = false;
  dialog.querySelector(".repost-comment-form").hidden = true;
  dialog.querySelector("textarea").value = "";
  dialog.querySelector(".dialog-status").textContent = "";
  dialog.addEventListener("close", () => details.querySelector("summary").focus(), { once: true });
  dialog.showModal();
  dialog.querySelector(".repost-plain").focus();
}

// Share to a chat: a dialog listing your recent chats; picking one sends the post there as a card.
let shareDialog = null;

function buildShareDialog() {
  const list = document.createElement("ul");
  list.className = "rows share-chats";
  return actionDialog("share-dialog", "Share to chat", "Close", list);
}

async function openShareDialog(link) {
  shareDialog ??= buildShareDialog();
  const dialog = shareDialog;
  const postId = postIdOf(link);
  const list = dialog.querySelector(".share-chats");
  const status = dialog.querySelector(".dialog-status");
  list.replaceChildren();
  status.textContent = "Loading your chats…";
  dialog.addEventListener("close", () => link.focus(), { once: true });
  dialog.showModal();
  let conversations;
  try {
    conversations = await api("GET", "/api/conversations/", link);
  } catch (error) {
    status.textContent = error.message;
    return;
  }
  status.textContent = "";
  if (!conversations.length) {
    status.textContent = "No chats yet. ";
    const add = document.createElement("a");
    add.href = "/contacts/";
    add.textContent = "Add a contact to start one";
    status.append(add);
    return;
  }
  for (const conversation of conversations.slice(0, 10)) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary share-to";
    const name = document.createElement("bdi");
    name.textContent = conversation.title || "Chat";
    button.append("Send to ", name);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("POST", `/api/conversations/${Number(conversation.id)}/messages/`, link, {
          shared_post: postId,
          client_id: `share-${postId}-${Date.now()}`,
        });
        status.replaceChildren("Shared with ", name.cloneNode(true), ". ");
        const open = document.createElement("a");
        open.href = `/chat/${Number(conversation.id)}/`;
        open.textContent = "Open the chat";
        status.append(open);
      } catch (error) {
        status.textContent = error.message;
        button.disabled = false;
      }
    });
    item.append(button);
    list.append(item);
  }
  list.querySelector("button")?.focus();
  const all = document.createElement("li");
  const more = document.createElement("a");
  more.href = link.href;
  more.textContent = "All chats, with a note…";
  all.append(more);
  list.append(all);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.closest?.(".post-actions")) return;
  if (form.matches("[data-like]")) {
    event.preventDefault();
    like(form);
  } else if (form.matches("[data-reply]")) {
    event.preventDefault();
    reply(form);
  }
});

document.addEventListener("click", (event) => {
  const summary = event.target.closest?.(".post-actions .action-repost > summary");
  if (summary) {
    event.preventDefault(); // the dialog instead of the no-JavaScript fold-out
    openRepostDialog(summary.parentElement);
    return;
  }
  const share = event.target.closest?.(".post-actions a[data-share]");
  if (share && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    event.preventDefault();
    openShareDialog(share);
  }
});

// Reply's fold-out: the box gets the focus when it opens.
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (details.matches?.(".post-actions .action-reply") && details.open) details.querySelector("textarea")?.focus();
  },
  true,
);
