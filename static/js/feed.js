// The home feed's "N new posts" button: counts `feed.new` frames from the page's one socket
// (live.js) and leaves the items where they are; a click loads the feed again from the top.
import { live } from "./live.js";

const button = document.getElementById("feed-new");
const announced = new Set();

function label(count) {
  return count === 1 ? "1 new post" : `${count} new posts`;
}

if (button) {
  live.onFrame((frame) => {
    if (frame.type !== "feed.new" || announced.has(frame.post)) return;
    announced.add(frame.post);
    button.textContent = label(announced.size);
    button.classList.add("shown");
  });
  button.addEventListener("click", () => {
    history.scrollRestoration = "manual";
    window.scrollTo(0, 0);
    location.assign(button.dataset.href);
  });
}
