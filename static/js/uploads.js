// Photos picked in a composer (a post, a reply, a chat message). Each is uploaded as soon as it is picked,
// with XMLHttpRequest because fetch reports no upload progress, then waited on while the server processes
// it; a refused one says why (the API's `detail`) beside its preview. The markup is the server's:
// templates/media/_attach.html, with one templates/media/_upload.html per photo.
import { stripLikeServer } from "./compose.js";
import { cloneTemplate } from "./templates.js";

const POLL_MS = [250, 500, 1000, 2000]; // then every 2 s
const POLL_LIMIT_MS = 120_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// What a picked file is, for the sentences about it: a video, a voice message, else a photo.
function nounOf(file) {
  if (file.type?.startsWith("video/")) return "video";
  if (file.type?.startsWith("audio/")) return "voice message";
  return "photo";
}

// What the API said was wrong: its `detail`, or DRF's first field error, else a sentence for the status.
function reason(status, data, noun = "photo") {
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    const first = Object.values(data).flat()[0];
    if (typeof first === "string") return first;
  }
  if (status === 413) return `This ${noun} is too large.`;
  if (status === 429) return "Too many uploads: try again later.";
  if (status === 0) return "The upload failed: check your connection and try again.";
  return `The upload failed (HTTP ${status}).`;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function api(method, path, csrfToken, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = parse(await response.text());
  if (!response.ok) throw new Error(reason(response.status, data));
  return data;
}

// One picked file on its way to being a ready media object. `kind` ("audio" for a recorded voice
// message) tells the server what the sender means to send, so anything else is refused.
export class Upload {
  constructor(file, csrfToken, { kind = null } = {}) {
    this.file = file;
    this.csrfToken = csrfToken;
    this.kind = kind;
    this.noun = kind === "audio" ? "voice message" : nounOf(file);
    this.previewUrl = URL.createObjectURL(file);
    this.sent = 0; // fraction of the bytes sent
    this.media = null; // the API's media object, once it answered
    this.error = "";
    this.width = 0; // of the picked image, once its preview has decoded (a chat echo's size)
    this.height = 0;
    this.cancelled = false;
    this.listeners = new Set();
    this.done = this.send().then((media) => this.untilProcessed(media));
    this.done.catch((error) => this.fail(error)).finally(() => this.changed());
  }

  get ready() {
    return this.media?.status === "ready";
  }

  get finished() {
    return this.ready || Boolean(this.error);
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }

  fail(error) {
    if (!this.cancelled) this.error = error.message;
  }

  send() {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open("POST", "/api/media/");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", this.csrfToken);
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        this.sent = event.loaded / event.total;
        this.changed();
      });
      xhr.addEventListener("load", () => {
        const data = parse(xhr.responseText);
        if (xhr.status === 201 && data) resolve(data);
        else reject(new Error(reason(xhr.status, data, this.noun)));
      });
      xhr.addEventListener("error", () => reject(new Error(reason(0, null))));
      xhr.addEventListener("abort", () => reject(new Error("Removed.")));
      const form = new FormData();
      form.append("file", this.file);
      if (this.kind) form.append("kind", this.kind);
      xhr.send(form);
    });
  }

  get processing() {
    return this.media?.status === "processing";
  }

  // Processing runs in the background (a thread or a worker): ask until the photo is ready or failed.
  async untilProcessed(media) {
    this.media = media;
    this.sent = 1;
    this.changed();
    const started = Date.now();
    for (let attempt = 0; this.media.status === "processing"; attempt += 1) {
      if (Date.now() - started > POLL_LIMIT_MS) {
        throw new Error(`Processing this ${this.noun} is taking too long: try again.`);
      }
      await sleep(POLL_MS[Math.min(attempt, POLL_MS.length - 1)]);
      if (this.cancelled) throw new Error("Removed.");
      this.media = await api("GET", `/api/media/${Number(media.id)}/`, this.csrfToken);
    }
    if (this.media.status !== "ready") throw new Error(`This ${this.noun} could not be read: try another one.`);
    return this.media;
  }

  // The alt text typed while it uploaded, saved before the photo is attached.
  async saveAlt(alt) {
    const text = stripLikeServer(alt);
    if (!this.media || text === (this.media.alt || "")) return;
    try {
      this.media = await api("PATCH", `/api/media/${Number(this.media.id)}/`, this.csrfToken, { alt: text });
    } catch (error) {
      this.fail(error);
      this.changed();
      throw error;
    }
  }

  // Removed from the composer before it was sent: stop the upload, and delete what the server kept
  // (an upload nobody attaches is deleted after a day anyway, so a failure here costs nothing).
  cancel() {
    this.cancelled = true;
    this.xhr?.abort();
    if (this.media) api("DELETE", `/api/media/${Number(this.media.id)}/`, this.csrfToken).catch(() => {});
    this.release();
  }

  release() {
    URL.revokeObjectURL(this.previewUrl);
  }
}

// The photos of one composer form: picking (the file input, drag and drop, paste), previews with alt
// text, progress and errors, removal, and at most data-max of them.
export class Attachments {
  constructor(form, { onChange = () => {} } = {}) {
    this.form = form;
    this.root = form.querySelector(".attach");
    this.max = Number(this.root.dataset.max) || 9;
    this.list = this.root.querySelector(".uploads");
    this.status = this.root.querySelector(".attach-status");
    this.input = this.root.querySelector(".attach-input");
    this.items = []; // {upload, element}, in the order they were picked
    this.onChange = onChange;
    this.root.hidden = false;
    this.input.addEventListener("change", () => {
      this.add(this.input.files);
      this.input.value = ""; // picking the same file again is a new pick
    });
    const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
    form.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      form.classList.add("drop-target");
    });
    form.addEventListener("dragleave", (event) => {
      if (!form.contains(event.relatedTarget)) form.classList.remove("drop-target");
    });
    form.addEventListener("drop", (event) => {
      form.classList.remove("drop-target");
      if (!carriesFiles(event)) return;
      event.preventDefault();
      this.add(event.dataTransfer.files);
    });
    form.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return; // text pastes as text
      event.preventDefault();
      this.add(files);
    });
  }

  get count() {
    return this.items.length;
  }

  get uploading() {
    return this.items.some(({ upload }) => !upload.finished);
  }

  get csrfToken() {
    return this.form.querySelector("[name=csrfmiddlewaretoken]")?.value ?? "";
  }

  say(text) {
    this.status.textContent = text;
  }

  add(files) {
    const picked = [...files];
    const room = Math.max(this.max - this.items.length, 0);
    const left = picked.length - room;
    this.say(left > 0 ? `At most ${this.max} photos: ${left} ${left === 1 ? "was" : "were"} left out.` : "");
    for (const file of picked.slice(0, room)) {
      const upload = new Upload(file, this.csrfToken);
      const item = { upload, element: this.itemElement(upload) };
      item.element.querySelector(".upload-remove").addEventListener("click", () => this.remove(item));
      this.items.push(item);
      this.list.append(item.element);
    }
    this.renumber();
    this.onChange();
  }

  itemElement(upload) {
    const element = cloneTemplate("template.upload-template", this.root);
    const preview = element.querySelector(".upload-preview");
    const progress = element.querySelector(".upload-progress");
    const error = element.querySelector(".upload-error");
    const state = element.querySelector(".upload-state");
    if (upload.noun === "video") {
      element.classList.add("is-video");
      element.querySelector(".upload-what").textContent = "video";
    }
    preview.src = upload.previewUrl;
    preview.decode().then(
      () => {
        upload.width = preview.naturalWidth;
        upload.height = preview.naturalHeight;
      },
      () => preview.removeAttribute("src"), // not an image the browser can show: the server's answer says why
    );
    const show = () => {
      element.classList.toggle("failed", Boolean(upload.error));
      element.classList.toggle("ready", upload.ready && !upload.error);
      error.textContent = upload.error;
      // Sent and being processed (a video's probe and poster take a moment): the page says so.
      if (state) state.textContent = upload.processing && !upload.error ? "Processing…" : "";
      progress.hidden = upload.finished;
      if (upload.media) progress.removeAttribute("value"); // sent, being processed: no fraction to show
      else progress.value = Math.round(upload.sent * 100);
      progress.textContent = `${Math.round(upload.sent * 100)}%`;
    };
    upload.onChange(show);
    show();
    return element;
  }

  renumber() {
    this.items.forEach(({ element }, index) => {
      element.querySelector(".upload-number").textContent = String(index + 1);
      element.querySelector(".upload-remove").setAttribute("aria-label", `Remove photo ${index + 1}`);
    });
  }

  remove(item) {
    item.upload.cancel();
    item.element.remove();
    this.items = this.items.filter((other) => other !== item);
    this.say("");
    this.renumber();
    this.onChange();
    this.input.focus();
  }

  // Resolves with the ids of the photos in order, once every upload is ready and its alt text saved;
  // rejects when one failed (each failed photo says why beside its preview).
  async settle() {
    const items = [...this.items];
    const results = await Promise.allSettled(items.map(({ upload }) => upload.done));
    if (results.some((result) => result.status === "rejected")) {
      throw new Error("A photo could not be uploaded: remove it, or pick another.");
    }
    await Promise.all(items.map(({ upload, element }) => upload.saveAlt(element.querySelector(".upload-alt").value)));
    return items.map(({ upload }) => upload.media.id);
  }

  // Hands the photos over with their alt text (a chat message's echo shows them while they finish)
  // and empties the composer. None is handed over while one has failed: that one must go first.
  take() {
    if (this.items.some(({ upload }) => upload.error)) {
      this.say("A photo could not be uploaded: remove it, or pick another.");
      return null;
    }
    const taken = this.items.map(({ upload, element }) => ({ upload, alt: element.querySelector(".upload-alt").value }));
    for (const { element } of this.items) element.remove();
    this.items = [];
    this.say("");
    this.onChange();
    return taken;
  }
}
