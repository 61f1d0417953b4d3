// The one WebSocket per signed-in page: seq tracking, gap detection, resume, reconnect with backoff.
//
// Every event a user must not miss carries `seq`, growing by one per event. A jump means a
// push was dropped (or is still on its way: pushes from concurrent writes can arrive out of
// order), so we wait about a second for the missing number, then ask the server to `resume`.
// After a reconnect we resume from the last seq seen, so nothing is lost or shown twice.
//
// Seqs name events within one life of the server's store (its `epoch`). After a crash of the
// database the last acknowledged events may be lost and their numbers given again, so a resume
// carries the epoch its seq belongs to, and the server answers `resync` when it is another.

const GAP_WAIT_MS = 1000;
const MAX_BACKOFF_MS = 15000;
// A resume answered with one of these errors is sent again (after `retry_after`, or a second).
const RESUME_AGAIN = new Set(["rate_limited", "server_error"]);

export class TandemSocket {
  constructor({
    lastSeq = 0,
    epoch = null,
    onFrame = () => {},
    onStatus = () => {},
    onResync = () => location.reload(),
  } = {}) {
    this.lastSeq = lastSeq;
    this.epoch = epoch; // null: learnt from the first resume's answer
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.backoff = 500;
    this.early = new Map(); // seq -> frame that arrived ahead of a missing one
    this.gapTimer = null;
    this.resuming = false;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/`);
    this.ws.addEventListener("open", () => {
      this.backoff = 500;
      this.resume();
      this.onStatus("online");
    });
    this.ws.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.ws.addEventListener("close", (event) => {
      this.onStatus("offline");
      if (event.code === 4401 || event.code === 4403) return; // signed out: no point retrying
      const delay = this.backoff * (0.75 + Math.random() / 2);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      setTimeout(() => this.connect(), delay);
    });
  }

  get open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // Resolves true once the socket is open (at once if it is), or false after `timeoutMs`: for an
  // action a person just asked for, such as a call, which should wait out a page's first connect
  // or a reconnect under way rather than fail.
  opened(timeoutMs) {
    if (this.open) return Promise.resolve(true);
    return new Promise((resolve) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (this.open || Date.now() - started >= timeoutMs) {
          clearInterval(poll);
          resolve(this.open);
        }
      }, 50);
    });
  }

  // Returns whether the frame went out; callers keep what must be retried after a reconnect.
  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Frames held in `early` stay: the server does not replay what it already pushed to this socket.
  resume() {
    clearTimeout(this.gapTimer);
    this.gapTimer = null;
    if (!this.open) return; // the reconnect resumes
    this.resuming = true;
    this.ws.send(JSON.stringify({ type: "resume", after: this.lastSeq, epoch: this.epoch }));
  }

  receive(frame) {
    if (frame.type === "resume.done") {
      // Everything up to `last` was replayed, or had come live and waits in `early`.
      this.resuming = false;
      this.epoch = frame.epoch ?? this.epoch;
      this.drainEarly();
      this.lastSeq = Math.max(this.lastSeq, frame.last);
      this.drainEarly();
      if (this.early.size > 0 && !this.gapTimer) this.gapTimer = setTimeout(() => this.resume(), GAP_WAIT_MS);
      return;
    }
    if (frame.type === "error" && frame.client_id === undefined && this.resuming && RESUME_AGAIN.has(frame.code)) {
      // The resume was refused for now (too many this minute), or failed (the database was
      // restarting): ask again when the server says.
      this.resuming = false;
      clearTimeout(this.gapTimer);
      this.gapTimer = setTimeout(() => this.resume(), (frame.retry_after || 1) * 1000);
      return;
    }
    if (frame.type === "resync") {
      this.lastSeq = frame.last;
      this.epoch = frame.epoch ?? this.epoch;
      this.onResync();
      return;
    }
    if (frame.seq === undefined) {
      this.onFrame(frame);
      return;
    }
    if (frame.seq <= this.lastSeq) return; // already seen (a replay overlapping a push)
    if (frame.seq > this.lastSeq + 1) {
      // Ahead of a missing number: keep it until the gap fills (by a late push or the replay).
      this.early.set(frame.seq, frame);
      if (!this.gapTimer && !this.resuming) this.gapTimer = setTimeout(() => this.resume(), GAP_WAIT_MS);
      return;
    }
    this.accept(frame);
    this.drainEarly();
  }

  drainEarly() {
    for (const seq of [...this.early.keys()]) if (seq <= this.lastSeq) this.early.delete(seq);
    while (this.early.has(this.lastSeq + 1)) {
      const next = this.early.get(this.lastSeq + 1);
      this.early.delete(next.seq);
      this.accept(next);
    }
    if (this.early.size === 0 && this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
  }

  accept(frame) {
    this.lastSeq = frame.seq;
    this.onFrame(frame);
  }
}
