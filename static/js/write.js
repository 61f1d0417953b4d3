// The article editor (/write/): autosaves the draft over the API a moment after typing stops (the
// first save creates it, then PATCH sends what changed) and shows a live preview rendered by the
// server (POST /api/articles/preview/: the same Markdown and sanitiser as the reading page).
// Photos are uploaded (POST /api/media/), waited on until processed, then inserted as Markdown or
// set as the cover. Without JavaScript the form still saves and publishes.
const SAVE_AFTER_MS = 800;
const PREVIEW_AFTER_MS = 300;
const POLL_MS = 500;
const POLL_LIMIT_MS = 120_000;

const section = document.querySelector("section.write");
const form = document.getElementById("article-form");
const status = document.getElementById("save-status");
const preview = document.getElementById("preview");
const title = form.elements.title;
const body = form.elements.body;
const visibility = form.elements.visibility;
const csrfToken = form.elements.csrfmiddlewaretoken.value;

let articleId = section.dataset.article ? Number(section.dataset.article) : null;
let published = section.dataset.status === "published";
let saved = { title: title.value, body: body.value, visibility: visibility.value };
let saving = null;
let saveTimer = null;
let previewTimer = null;
let previewAsked = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, data) {
  const isForm = data instanceof FormData;
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "X-CSRFToken": csrfToken,
      ...(isForm || data === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: data === undefined ? undefined : isForm ? data : JSON.stringify(data),
  });
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = answer && (answer.detail || Object.values(answer).flat()[0]);
    const error = new Error(typeof detail === "string" ? detail : `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

function say(text) {
  status.textContent = text;
}

function changes() {
  const current = { title: title.value, body: body.value, visibility: visibility.value };
  const changed = {};
  for (const key of Object.keys(current)) {
    if (current[key] !== saved[key] && !(key === "visibility" && published)) changed[key] = current[key];
  }
  return [current, changed];
}

async function save() {
  if (saving) await saving; // one save at a time, in order
  const [current, changed] = changes();
  if (!Object.keys(changed).length) return;
  if (!current.title.trim()) {
    say("Give the article a title to save a draft.");
    return;
  }
  saving = (async () => {
    say("Saving…");
    try {
      if (articleId === null) {
        const article = await api("POST", "/api/articles/", {
          title: current.title,
          body: current.body,
          visibility: current.visibility,
          ...(form.elements.cover.value ? { cover: Number(form.elements.cover.value) } : {}),
        });
        articleId = article.id;
        section.dataset.article = String(articleId);
        form.action = `/write/${articleId}/`;
        history.replaceState(null, "", `/write/${articleId}/`);
      } else {
        await api("PATCH", `/api/articles/${articleId}/`, changed);
      }
      saved = current;
      say(`${published ? "Published" : "Draft"} · saved`);
    } catch (error) {
      say(`Not saved: ${error.message}`);
    }
  })();
  await saving;
  saving = null;
}

async function refreshPreview() {
  const asked = ++previewAsked;
  try {
    const answer = await api("POST", "/api/articles/preview/", { body: body.value });
    // Answers can cross: only the latest question's answer is shown. The HTML is the server's sanitised rendering.
    if (asked === previewAsked) preview.innerHTML = answer.html;
  } catch (error) {
    if (error.status === 429) previewTimer = setTimeout(refreshPreview, 2000);
  }
}

function edited() {
  say("Unsaved changes…");
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_AFTER_MS);
}

function bodyEdited() {
  edited();
  clearTimeout(previewTimer);
  previewTimer = setTimeout(refreshPreview, PREVIEW_AFTER_MS);
}

async function upload(file) {
  const data = new FormData();
  data.append("file", file);
  let media = await api("POST", "/api/media/", data);
  const started = Date.now();
  while (media.status === "processing" && Date.now() - started < POLL_LIMIT_MS) {
    await sleep(POLL_MS);
    media = await api("GET", `/api/media/${media.id}/`);
  }
  if (media.status !== "ready") throw new Error(media.error || "The photo could not be processed.");
  return media;
}

function insertAtCursor(text) {
  const start = body.selectionStart ?? body.value.length;
  const end = body.selectionEnd ?? start;
  body.value = body.value.slice(0, start) + text + body.value.slice(end);
  body.selectionStart = body.selectionEnd = start + text.length;
  bodyEdited();
}

document.getElementById("insert-photo").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  event.target.value = "";
  if (!file) return;
  say("Uploading the photo…");
  try {
    const media = await upload(file);
    const alt = file.name.replace(/\.[^.]*$/, "").replace(/[[\]]/g, "");
    insertAtCursor(`\n\n![${alt}](${media.url})\n\n`);
    say("Photo inserted.");
  } catch (error) {
    say(`The photo was not inserted: ${error.message}`);
  }
});

document.getElementById("cover-photo").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  event.target.value = "";
  if (!file) return;
  say("Uploading the cover…");
  try {
    const media = await upload(file);
    form.elements.cover.value = String(media.id);
    if (articleId !== null) await api("PATCH", `/api/articles/${articleId}/`, { cover: media.id });
    document.getElementById("cover-name").textContent = `Cover: ${file.name}`;
    say(articleId !== null ? "Cover set." : "Cover chosen: it is saved with the draft.");
  } catch (error) {
    say(`The cover was not set: ${error.message}`);
  }
});

title.addEventListener("input", edited);
visibility.addEventListener("change", edited);
body.addEventListener("input", bodyEdited);
// Leaving the page saves what is pending (the form's own submit saves everything anyway).
window.addEventListener("pagehide", () => {
  if (saveTimer) save();
});
form.addEventListener("submit", () => clearTimeout(saveTimer));
if (!preview.innerHTML.trim() && body.value.trim()) refreshPreview();
