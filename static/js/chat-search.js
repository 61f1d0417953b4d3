// Chat history search: the box in the chat list searches every conversation of the viewer, the one
// inside a conversation only that one (GET /api/chat/search/). A result opens the conversation at the
// message (/chat/<id>/?around=<message id>): the page loads it with the messages around it, and this
// scrolls to it and marks it. Debounced, at most one request in flight per box.
// The `highlight` the server sends is escaped text with <mark>s; it is rebuilt here from its text and
// <mark> elements only, so nothing else it could hold becomes markup.
const DEBOUNCE_MS = 300;

function highlighted(html) {
  const parsed = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html").body.firstElementChild;
  const out = document.createDocumentFragment();
  for (const node of parsed?.childNodes ?? []) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      out.append(mark);
    } else {
      out.append(document.createTextNode(node.textContent));
    }
  }
  return out;
}

function resultItem(hit) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `/chat/${Number(hit.conversation_id)}/?around=${Number(hit.id)}`;
  link.className = "chat-search-hit";
  link.dataset.id = hit.id;
  const who = document.createElement("bdi");
  who.className = "name";
  who.textContent = hit.sender.display_name || hit.sender.username;
  const text = document.createElement("span");
  text.className = "preview";
  text.dir = "auto";
  text.append(highlighted(hit.highlight));
  const when = document.createElement("time");
  when.className = "muted small";
  when.dateTime = hit.created_at;
  when.textContent = new Date(hit.created_at).toLocaleString();
  link.append(who, ": ", text, " ", when);
  item.append(link);
  return item;
}

function attach(form) {
  const input = form.querySelector("input[type=search]");
  const results = form.querySelector(".chat-search-results");
  const conversation = form.dataset.conversation;
  let timer = null;
  let inFlight = false;
  let wanted = null;

  function show(text, page) {
    if (text !== input.value.trim()) return;
    results.replaceChildren(...page.results.map(resultItem));
    if (!page.results.length) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No messages match.";
      results.append(none);
    }
    results.hidden = false;
  }

  async function ask(text) {
    if (inFlight) {
      wanted = text;
      return;
    }
    inFlight = true;
    try {
      const params = new URLSearchParams({ q: text });
      if (conversation) params.set("conversation", conversation);
      const response = await fetch(`/api/chat/search/?${params}`, { headers: { Accept: "application/json" } });
      if (response.ok) show(text, await response.json());
    } catch {
      // Offline: nothing to show; the chat itself works on.
    } finally {
      inFlight = false;
      if (wanted !== null) {
        const next = wanted;
        wanted = null;
        if (next === input.value.trim()) ask(next);
      }
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) {
      results.hidden = true;
      results.replaceChildren();
      return;
    }
    timer = setTimeout(() => ask(text), DEBOUNCE_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (input.value.trim()) ask(input.value.trim());
  });
}

// The message a result opened: scrolled into view and marked, once chat.js has laid the page out.
function showTarget() {
  const around = document.querySelector(".chat-search[data-around]")?.dataset.around;
  if (!around) return;
  const target = document.querySelector(`#messages li.msg[data-id="${CSS.escape(around)}"]`);
  if (!target) return;
  target.classList.add("search-target");
  target.setAttribute("aria-current", "true");
  requestAnimationFrame(() => target.scrollIntoView({ block: "center" }));
}

document.querySelectorAll("form.chat-search").forEach(attach);
if (document.readyState === "complete") showTarget();
else window.addEventListener("load", showTarget);
