// Photos on posts and chat messages: the placeholder colour an image shows until it loads, the gallery
// markup of live items (a clone of templates/media/_gallery.html), and the lightbox every page shares.
import { cloneTemplate } from "./templates.js";

const BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

// The average colour of a blurhash, "#rrggbb" ("" when there is none): after the size flag and the AC
// maximum, four base-83 digits hold the DC component, plain sRGB. media/templatetags/media_tags.py's
// placeholder_colour reads it the same way for the photos the server renders.
export function placeholderColour(blurhash) {
  if (typeof blurhash !== "string" || blurhash.length < 6) return "";
  let value = 0;
  for (const digit of blurhash.slice(2, 6)) {
    const index = BASE83.indexOf(digit);
    if (index < 0) return "";
    value = value * 83 + index;
  }
  return value <= 0xffffff ? `#${value.toString(16).padStart(6, "0")}` : "";
}

export function setPlaceholder(img, blurhash) {
  const colour = placeholderColour(blurhash);
  if (colour) img.style.setProperty("--placeholder", colour);
}

// A video's length as its poster says it: "0:07" (media/templatetags/av_tags.py's `clock`).
export function clock(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

// A video's poster with its length (templates/media/_video.html). A `local` one (a chat message's own
// echo, still uploading) has no poster yet: it shows the frame with the play mark only.
function videoCell(cell, video) {
  const img = cell.querySelector("img");
  cell.querySelector(".video-duration").textContent = video.duration ? clock(video.duration) : "";
  cell.setAttribute("aria-label", video.duration ? `Play video, ${clock(video.duration)}` : "Video");
  if (video.local || !video.url) {
    img.removeAttribute("src");
    return cell;
  }
  cell.href = video.url;
  cell.dataset.poster = video.poster_url || "";
  cell.dataset.width = String(video.width);
  cell.dataset.height = String(video.height);
  cell.dataset.duration = String(video.duration);
  if (video.poster_url) img.src = video.poster_url;
  img.alt = video.alt || "";
  img.width = video.width || 1;
  img.height = video.height || 1;
  img.style.setProperty("--w", String(video.width || 1));
  img.style.setProperty("--h", String(video.height || 1));
  return cell;
}

// A media object's gallery, as the server renders it: one photo large at its own size, more as square
// thumbnails, or one video's poster. `local` photos (a chat message's own echo) are shown from the
// picked file, not linked.
export function galleryElement(photos) {
  const gallery = cloneTemplate("#gallery-template");
  const cell = gallery.querySelector(".photo:not(.video)");
  const video = gallery.querySelector(".video");
  cell.remove();
  video?.remove();
  if (video && photos.length === 1 && photos[0].kind === "video") {
    gallery.dataset.count = "1";
    gallery.dataset.kind = "video";
    gallery.append(videoCell(video, photos[0]));
    return gallery;
  }
  const single = photos.length === 1;
  gallery.dataset.count = String(photos.length);
  for (const photo of photos) {
    const link = cell.cloneNode(true);
    const img = link.querySelector("img");
    if (photo.url && !photo.local) {
      link.href = photo.url;
      link.dataset.width = String(photo.width);
      link.dataset.height = String(photo.height);
    }
    if (!photo.alt) link.setAttribute("aria-label", "Photo without a description");
    img.src = single || photo.local ? photo.url : photo.thumbnail_url;
    img.alt = photo.alt || "";
    if (single && photo.width && photo.height) {
      img.width = photo.width;
      img.height = photo.height;
      img.style.setProperty("--w", String(photo.width));
      img.style.setProperty("--h", String(photo.height));
    }
    setPlaceholder(img, photo.blurhash);
    gallery.append(link);
  }
  return gallery;
}

// The lightbox: one <dialog> per page (templates/media/_lightbox.html), opened by a click on any photo
// link; it steps through the photos of that one gallery.
const dialog = document.getElementById("lightbox");

if (dialog) {
  const image = dialog.querySelector(".lightbox-image");
  const player = dialog.querySelector(".lightbox-video");
  const caption = dialog.querySelector(".lightbox-caption");
  const count = dialog.querySelector(".lightbox-count");
  const previous = dialog.querySelector(".lightbox-prev");
  const next = dialog.querySelector(".lightbox-next");
  let links = [];
  let index = 0;
  let opener = null;

  // A video plays in the same dialog: its poster first, nothing fetched past its metadata until Play.
  const showVideo = (link) => {
    const poster = link.querySelector("img");
    image.hidden = true;
    player.hidden = false;
    player.width = Number(link.dataset.width) || poster.width;
    player.height = Number(link.dataset.height) || poster.height;
    player.poster = link.dataset.poster || "";
    player.src = link.href;
    caption.textContent = poster.alt;
    count.textContent = "";
    previous.hidden = next.hidden = true;
    dialog.setAttribute("aria-label", "Video");
  };

  const show = () => {
    const link = links[index];
    if (link.classList.contains("video")) {
      showVideo(link);
      return;
    }
    image.hidden = false;
    player.hidden = true;
    dialog.setAttribute("aria-label", "Photo");
    const thumbnail = link.querySelector("img");
    image.removeAttribute("src"); // the old photo must not linger while the next one loads
    image.width = Number(link.dataset.width) || thumbnail.width;
    image.height = Number(link.dataset.height) || thumbnail.height;
    image.alt = thumbnail.alt;
    image.src = link.href;
    caption.textContent = thumbnail.alt;
    count.textContent = links.length > 1 ? `${index + 1} / ${links.length}` : "";
    previous.hidden = next.hidden = links.length < 2;
    previous.disabled = index === 0;
    next.disabled = index === links.length - 1;
  };

  const step = (by) => {
    const to = index + by;
    if (to < 0 || to >= links.length) return;
    index = to;
    show();
  };

  document.addEventListener("click", (event) => {
    const link = event.target.closest?.(".gallery a.photo[href]");
    // A modified click keeps the browser's own meaning (a new tab, a download).
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    links = [...link.closest(".gallery").querySelectorAll("a.photo[href]")];
    index = links.indexOf(link);
    opener = link;
    show();
    dialog.showModal();
  });

  previous.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  dialog.querySelector(".lightbox-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => {
    if (!player.hidden) return; // the player's own keys (seeking) stay the player's
    if (event.key === "ArrowRight") step(document.dir === "rtl" ? -1 : 1);
    else if (event.key === "ArrowLeft") step(document.dir === "rtl" ? 1 : -1);
    else return;
    event.preventDefault();
  });
  // A click on the dark surround (the dialog itself, not what is in it) closes, as on a phone's viewer.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  // Escape closes the dialog natively; either way, focus goes back to the photo that opened it.
  dialog.addEventListener("close", () => {
    image.removeAttribute("src");
    player.pause();
    player.removeAttribute("src");
    player.load(); // lets go of the connection and the buffered bytes
    opener?.focus();
    opener = null;
  });
}
