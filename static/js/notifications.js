// Live notification badge on microblog pages: listens on the user's /ws/ socket and counts
// `notification` frames into #notification-badge. Without JavaScript the badge is still
// right on every page load; this only keeps it fresh in between.

const badge = document.getElementById("notification-badge");
const FINAL_CLOSE_CODES = new Set([4401, 4403]); // signed out, foreign origin: retrying will not help

function show(count) {
  badge.textContent = count > 0 ? String(count) : "";
  badge.setAttribute("aria-label", `${count} unread notifications`);
}

async function refresh() {
  // After a (re)connect, the server's count covers anything pushed while we were away.
  const response = await fetch("/api/notifications/unread/", { credentials: "same-origin" });
  if (response.ok) show((await response.json()).unread);
}

function connect(delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/`);
  socket.addEventListener("open", () => {
    delay = 1000;
    refresh().catch(() => {});
  });
  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === "notification") show((Number(badge.textContent) || 0) + 1);
  });
  socket.addEventListener("close", (event) => {
    if (!FINAL_CLOSE_CODES.has(event.code)) setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
  });
}

if (badge) connect(1000);
