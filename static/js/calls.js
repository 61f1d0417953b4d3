// Voice and video calls (chat.calls on the server): the media go browser to browser (WebRTC); the
// offer, the answer and the ICE candidates go over the page's one socket (live.js), which reaches
// every page, so a call rings wherever the person is. One call at a time per tab.
//
// Each call frame this page sends carries the call's id as `client_id`, so an `error` frame answering
// it names the call it belongs to.
import { live } from "./live.js";

// The call styles come with the script (the panels are hidden until a call): base.html stays one include.
const sheet = document.createElement("link");
sheet.rel = "stylesheet";
sheet.href = new URL("../css/calls.css", import.meta.url).href;
document.head.append(sheet);

const incomingPanel = document.getElementById("call-incoming");
const view = document.getElementById("call-view");
const notice = document.getElementById("call-notice");
const remoteVideo = document.getElementById("call-remote-video");
const localVideo = document.getElementById("call-local-video");
const timerText = view.querySelector("[data-call-timer]");
const stateText = view.querySelector("[data-call-state]");
const muteButton = view.querySelector("[data-call-mute]");
const cameraButton = view.querySelector("[data-call-camera]");
const voiceButton = view.querySelector("[data-call-voice]");

const ENDED = {
  declined: "Call declined.",
  hangup: "Call ended.",
  missed: "No answer.",
  busy: "They are in another call.",
  answered_elsewhere: "Answered on another device.",
  failed: "The call failed.",
};
const CONFIG_WAIT_MS = 3000;
// How long a call someone starts waits for the page's socket to (re)connect before saying it cannot.
const CONNECT_WAIT_MS = 10000;

let call = null; // this tab's call: {id, role, media, peerName, pc, stream, answered, pendingLocal, pendingRemote}
let lastCall = null; // the call that ended last, for the browser tests (window.tandemCall)
let ringing = null; // a call.incoming waiting for an answer
let focusBefore = null;
let configWaiting = null;

function newCallId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function say(text) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => (notice.hidden = true), 8000);
}

// A ringtone made on the spot (Web Audio), two short tones every two seconds; a browser that has not
// let the page play sound yet keeps it silent, and the panel still shows.
const ringtone = {
  context: null,
  interval: null,
  start() {
    try {
      this.context ||= new AudioContext();
      this.context.resume().catch(() => {});
    } catch {
      return;
    }
    const ring = () => {
      const now = this.context.currentTime;
      for (const [offset, frequency] of [
        [0, 440],
        [0.45, 480],
      ]) {
        const tone = this.context.createOscillator();
        const volume = this.context.createGain();
        tone.frequency.value = frequency;
        volume.gain.setValueAtTime(0.0001, now + offset);
        volume.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.05);
        volume.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.4);
        tone.connect(volume).connect(this.context.destination);
        tone.start(now + offset);
        tone.stop(now + offset + 0.42);
      }
    };
    ring();
    this.interval = setInterval(ring, 2000);
  },
  stop() {
    clearInterval(this.interval);
    this.interval = null;
  },
};

function mediaError(error) {
  if (error?.name === "NotAllowedError") return "The call needs your microphone (and camera): permission was refused.";
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") {
    return "No microphone or camera was found for the call.";
  }
  return "Your microphone or camera could not be started.";
}

function getMedia(media) {
  if (!navigator.mediaDevices?.getUserMedia) return Promise.reject(new Error("no media devices"));
  return navigator.mediaDevices.getUserMedia({ audio: true, video: media === "video" });
}

// The STUN/TURN servers for this call (TURN credentials are minted per call by the server).
function iceServers() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      configWaiting = null;
      resolve([]);
    }, CONFIG_WAIT_MS);
    configWaiting = (servers) => {
      clearTimeout(timer);
      configWaiting = null;
      resolve(servers);
    };
    if (!live.send({ type: "call.config" })) configWaiting([]);
  });
}

function send(frame) {
  return live.send({ ...frame, client_id: frame.call_id });
}

function sendCandidate(candidate) {
  send({ type: "call.ice", call_id: call.id, candidate });
}

function showView(peerName, state) {
  focusBefore = document.activeElement;
  view.querySelector("[data-call-peer]").textContent = peerName;
  view.setAttribute("aria-label", `Call with ${peerName}`);
  view.classList.toggle("voice-only", call.media !== "video");
  cameraButton.disabled = call.media !== "video";
  voiceButton.disabled = call.media !== "video";
  setPressed(muteButton, false, "Mute", "Unmute");
  setPressed(cameraButton, false, "Camera off", "Camera on");
  timerText.textContent = "0:00";
  stateText.textContent = state;
  view.hidden = false;
  view.querySelector("[data-call-hangup]").focus();
}

function setPressed(button, pressed, off, on) {
  button.setAttribute("aria-pressed", String(pressed));
  button.textContent = pressed ? on : off;
}

function startTimer() {
  if (call.timer) return;
  const started = Date.now();
  const tick = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    timerText.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  };
  call.timer = setInterval(tick, 1000);
}

function makePeer(servers, stream) {
  const pc = new RTCPeerConnection({ iceServers: servers });
  const current = call;
  current.pc = pc;
  current.stream = stream;
  localVideo.srcObject = stream;
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.addEventListener("icecandidate", (event) => {
    if (!event.candidate || call !== current) return;
    const candidate = event.candidate.toJSON();
    if (current.answered) sendCandidate(candidate);
    else current.pendingLocal.push(candidate);
  });
  pc.addEventListener("track", (event) => {
    remoteVideo.srcObject = event.streams[0] || new MediaStream([event.track]);
  });
  pc.addEventListener("connectionstatechange", () => {
    if (call !== current) return;
    if (pc.connectionState === "connected") {
      stateText.textContent = "Connected";
      startTimer();
    } else if (pc.connectionState === "failed") {
      hangUp("failed");
    }
  });
  return pc;
}

async function addRemoteCandidates() {
  const pending = call.pendingRemote.splice(0);
  for (const candidate of pending) await call.pc.addIceCandidate(candidate).catch(() => {});
}

function flushLocalCandidates() {
  for (const candidate of call.pendingLocal.splice(0)) sendCandidate(candidate);
}

async function startCall(media, conversation, peerName) {
  if (call || ringing) {
    say("You are in a call already.");
    return;
  }
  const id = newCallId();
  call = { id, role: "caller", media, peerName, answered: false, pendingLocal: [], pendingRemote: [] };
  showView(peerName, "Calling…");
  let stream;
  try {
    stream = await getMedia(media);
  } catch (error) {
    endLocally();
    say(mediaError(error));
    return;
  }
  if (call?.id !== id) {
    stopTracks(stream);
    return;
  }
  // Clicked as the page opens, or while the socket reconnects: wait for it, as a person would.
  const connected = await live.opened(CONNECT_WAIT_MS);
  if (call?.id !== id) {
    stopTracks(stream);
    return;
  }
  if (!connected) {
    stopTracks(stream);
    endLocally();
    say("Not connected: try again in a moment.");
    return;
  }
  const pc = makePeer(await iceServers(), stream);
  await pc.setLocalDescription(await pc.createOffer());
  if (call?.id !== id) return;
  if (!send({ type: "call.invite", conversation, call_id: id, media, sdp: pc.localDescription.sdp })) {
    endLocally();
    say("Not connected: try again in a moment.");
  }
}

function showIncoming(frame) {
  ringing = frame;
  const name = frame.from.display_name || frame.from.username;
  incomingPanel.querySelector("[data-call-from]").textContent = name;
  incomingPanel.querySelector("[data-call-media-text]").textContent =
    frame.media === "video" ? "Video call" : "Voice call";
  incomingPanel.querySelector('[data-call-accept="video"]').hidden = frame.media !== "video";
  focusBefore = document.activeElement;
  incomingPanel.hidden = false;
  incomingPanel.querySelector(".call-accept:not([hidden])").focus();
  ringtone.start();
}

function stopRinging() {
  ringing = null;
  ringtone.stop();
  incomingPanel.hidden = true;
}

async function accept(media) {
  const offer = ringing;
  stopRinging();
  const name = offer.from.display_name || offer.from.username;
  call = { id: offer.call_id, role: "callee", media, peerName: name, answered: false, pendingLocal: [], pendingRemote: [] };
  showView(name, "Connecting…");
  let stream;
  try {
    stream = await getMedia(media);
  } catch (error) {
    send({ type: "call.hangup", call_id: offer.call_id, reason: "failed" });
    endLocally();
    say(mediaError(error));
    return;
  }
  if (call?.id !== offer.call_id) {
    stopTracks(stream);
    return;
  }
  const pc = makePeer(offer.ice_servers || [], stream);
  await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
  await addRemoteCandidates();
  await pc.setLocalDescription(await pc.createAnswer());
  if (call?.id !== offer.call_id) return;
  send({ type: "call.answer", call_id: call.id, sdp: pc.localDescription.sdp });
  call.answered = true;
  flushLocalCandidates();
}

function decline() {
  if (!ringing) return;
  send({ type: "call.decline", call_id: ringing.call_id });
  stopRinging();
  restoreFocus();
}

function hangUp(reason) {
  if (!call) return;
  send({ type: "call.hangup", call_id: call.id, ...(reason === "failed" ? { reason } : {}) });
  endLocally();
  say(reason === "failed" ? ENDED.failed : ENDED.hangup);
}

function stopTracks(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

function restoreFocus() {
  if (focusBefore?.isConnected) focusBefore.focus();
  focusBefore = null;
}

function endLocally() {
  if (!call) return;
  clearInterval(call.timer);
  stopTracks(call.stream);
  call.pc?.close();
  lastCall = call;
  call = null;
  remoteVideo.srcObject = null;
  localVideo.srcObject = null;
  view.hidden = true;
  restoreFocus();
}

async function onFrame(frame) {
  if (frame.type === "call.config") {
    configWaiting?.(frame.ice_servers || []);
  } else if (frame.type === "call.incoming") {
    if (!call && !ringing) showIncoming(frame);
  } else if (frame.type === "call.answered" && call?.id === frame.call_id) {
    call.answered = true;
    stateText.textContent = "Connecting…";
    await call.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
    await addRemoteCandidates();
    flushLocalCandidates();
  } else if (frame.type === "call.ice" && call?.id === frame.call_id) {
    if (call.pc?.remoteDescription) await call.pc.addIceCandidate(frame.candidate).catch(() => {});
    else call.pendingRemote.push(frame.candidate);
  } else if (frame.type === "call.ended") {
    if (ringing?.call_id === frame.call_id) {
      stopRinging();
      restoreFocus();
      say(frame.reason === "answered_elsewhere" ? ENDED.answered_elsewhere : "Missed call.");
    } else if (call?.id === frame.call_id) {
      endLocally();
      say(ENDED[frame.reason] || ENDED.hangup);
    }
  } else if (frame.type === "error" && frame.client_id && call?.id === frame.client_id) {
    if (frame.code === "rate_limited") return; // candidates past the rate: the call goes on
    endLocally();
    say(frame.detail);
  }
}

live.onFrame((frame) => {
  if (frame.type.startsWith("call.") || frame.type === "error") onFrame(frame);
});

document.addEventListener("click", (event) => {
  const start = event.target.closest("[data-call-start]");
  if (start) {
    const holder = start.closest("[data-call-conversation]");
    startCall(start.dataset.callStart, Number(holder.dataset.callConversation), holder.dataset.callPeerName);
  }
});
incomingPanel.querySelectorAll("[data-call-accept]").forEach((button) => {
  button.addEventListener("click", () => ringing && accept(button.dataset.callAccept));
});
incomingPanel.querySelector("[data-call-decline]").addEventListener("click", decline);
view.querySelector("[data-call-hangup]").addEventListener("click", () => hangUp());
muteButton.addEventListener("click", () => {
  const muted = muteButton.getAttribute("aria-pressed") !== "true";
  for (const track of call?.stream?.getAudioTracks() || []) track.enabled = !muted;
  setPressed(muteButton, muted, "Mute", "Unmute");
});
cameraButton.addEventListener("click", () => {
  const off = cameraButton.getAttribute("aria-pressed") !== "true";
  for (const track of call?.stream?.getVideoTracks() || []) track.enabled = !off;
  setPressed(cameraButton, off, "Camera off", "Camera on");
});
voiceButton.addEventListener("click", async () => {
  if (!call) return;
  // The camera stops for good in this call; the other side sees no more video.
  for (const sender of call.pc?.getSenders() || []) if (sender.track?.kind === "video") await sender.replaceTrack(null);
  for (const track of call.stream?.getVideoTracks() || []) track.stop();
  call.media = "voice";
  view.classList.add("voice-only");
  cameraButton.disabled = true;
  voiceButton.disabled = true;
  stateText.textContent = "Voice only";
});
// Escape on the incoming panel declines, as its Decline button does.
incomingPanel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") decline();
});

// For the browser tests: the call of this tab (its RTCPeerConnection), or the last one.
window.tandemCall = () => call || lastCall;
