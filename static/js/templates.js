// The markup of live items comes from the server: each page renders the same Django partial it uses
// for its own items, empty, into a <template>; this clones it. Callers fill the clone through
// textContent and attributes only, never HTML, so user text cannot become markup.

export function cloneTemplate(selector, root = document) {
  const template = root.querySelector(selector);
  if (!template) throw new Error(`no ${selector} on this page`);
  return template.content.firstElementChild.cloneNode(true);
}

// A short text the server wrote once (a partial) for both its own rendering and the page's JavaScript.
export function templateText(selector) {
  return document.querySelector(selector)?.content.textContent.trim() ?? "";
}
