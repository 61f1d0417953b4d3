// The Explore search box: people and tags suggested as you type. Debounced, and at most one request
// in flight: what is typed meanwhile is asked once the answer is in, the latest text only.
// Suggestions are built with textContent; nothing the server sends is parsed as HTML.
const input = document.getElementById("search-q");
const list = document.getElementById("search-suggestions");
const DEBOUNCE_MS = 250;

let timer = null;
let inFlight = false;
let wanted = null; // the text to ask about once the request in flight answers
let shown = null; // the text the list shows suggestions for

function close() {
  list.hidden = true;
  list.replaceChildren();
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

function option(href, text, kind) {
  const item = document.createElement("li");
  item.setAttribute("role", "option");
  item.id = `suggestion-${list.children.length}`;
  item.className = `suggestion ${kind}`;
  const link = document.createElement("a");
  link.href = href;
  link.textContent = text;
  link.tabIndex = -1;
  item.append(link);
  return item;
}

function show(text, suggestions) {
  if (text !== input.value.trim()) return; // typed on since: the next answer shows
  shown = text;
  list.replaceChildren();
  for (const person of suggestions.users) {
    const label = person.display_name ? `${person.display_name} @${person.username}` : `@${person.username}`;
    list.append(option(`/u/${encodeURIComponent(person.username)}/`, label, "person"));
  }
  for (const tag of suggestions.tags) {
    list.append(option(`/tags/${encodeURIComponent(tag.name)}/`, `#${tag.name}`, "tag"));
  }
  list.hidden = list.children.length === 0;
  input.setAttribute("aria-expanded", String(!list.hidden));
}

async function ask(text) {
  if (inFlight) {
    wanted = text;
    return;
  }
  inFlight = true;
  try {
    const url = `${input.dataset.suggestUrl}?q=${encodeURIComponent(text)}`;
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) show(text, await response.json());
  } catch {
    // Offline or refused: no suggestions; the form still searches.
  } finally {
    inFlight = false;
    if (wanted !== null) {
      const next = wanted;
      wanted = null;
      if (next === input.value.trim() && next !== shown) ask(next);
    }
  }
}

input.addEventListener("input", () => {
  clearTimeout(timer);
  const text = input.value.trim();
  if (!text) {
    wanted = null;
    shown = null;
    close();
    return;
  }
  timer = setTimeout(() => ask(text), DEBOUNCE_MS);
});

input.addEventListener("keydown", (event) => {
  const items = [...list.querySelectorAll("[role=option]")];
  if (list.hidden || !items.length) return;
  const current = items.findIndex((item) => item.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = (current + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
    items.forEach((item, index) => item.setAttribute("aria-selected", String(index === next)));
    input.setAttribute("aria-activedescendant", items[next].id);
  } else if (event.key === "Enter" && current >= 0) {
    event.preventDefault();
    window.location.assign(items[current].querySelector("a").href);
  } else if (event.key === "Escape") {
    close();
  }
});

document.addEventListener("click", (event) => {
  if (!list.contains(event.target) && event.target !== input) close();
});
