// Voice messages on the chat page: recording one in the composer (hold the microphone button and let go
// to send, or click to start and click again to send; slide away or Escape cancels; it stops by itself
// at 60 s), and playing them (a tap plays, with a sweep across the waveform; the next unplayed one plays
// after it). A bubble is a clone of templates/chat/_voice.html, the server's own partial.
import { cloneTemplate } from "./templates.js";

export const MAX_SECONDS = 60;
// A press shorter than this is a click: the recording goes on until the next click.
const HOLD_MS = 350;
// Shorter recordings are a slip of the finger, as WeChat says ("Too short").
const MIN_SECONDS = 0.7;
// How far the pointer may leave the button before letting go cancels, in CSS pixels.
const SLIDE_CANCEL_PX = 60;

// Opus in WebM or Ogg, else AAC in MP4 (Safari records only that): what the server takes
// (media/audiovisual.py), in the order preferred.
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4;codecs=mp4a.40.2", "audio/mp4"];

export function recordingType() {
  if (typeof MediaRecorder === "undefined") return null;
  return TYPES.find((type) => MediaRecorder.isTypeSupported(type)) ?? null;
}

function extensionOf(type) {
  if (type.startsWith("audio/ogg")) return "ogg";
  if (type.startsWith("audio/mp4")) return "m4a";
  return "webm";
}

// The length a bubble shows: whole seconds, at least 1 (av_tags.voice_seconds on the server).
export function voiceSeconds(seconds) {
  return Math.max(1, Math.round(Number(seconds) || 0));
}

function clockOf(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function refusal(error) {
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") {
    return "Microphone access was refused: allow it in your browser's site settings to send voice messages.";
  }
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") {
    return "No microphone was found: connect one to send voice messages.";
  }
  if (error?.name === "NotReadableError") return "The microphone is in use by another application.";
  return "The microphone could not be started.";
}

// The composer's microphone button. `onRecorded(file, seconds)` gets each finished recording;
// `say(text)` shows the recording's state (its running time, why it stopped, what went wrong).
export class VoiceRecorder {
  constructor(button, { say, onRecorded, onState = () => {} }) {
    this.button = button;
    this.say = say;
    this.onRecorded = onRecorded;
    this.onState = onState;
    this.type = recordingType();
    this.state = "idle"; // idle | starting | recording
    this.holding = false; // pressed and not yet let go
    this.toggled = false; // started by a click: the next click sends
    this.armedCancel = false; // slid away while holding: letting go cancels
    if (!this.type || !navigator.mediaDevices?.getUserMedia) return; // no recorder: no button
    button.hidden = false;
    button.addEventListener("pointerdown", (event) => this.pressed(event));
    button.addEventListener("pointerup", (event) => this.released(event));
    button.addEventListener("pointermove", (event) => this.moved(event));
    button.addEventListener("pointercancel", () => this.cancel("Recording cancelled."));
    // Keyboard (Enter, Space: a click of detail 0) and assistive clicks: start, then send.
    button.addEventListener("click", (event) => {
      if (event.detail !== 0) return; // pointer clicks are handled by pressed/released
      if (this.state === "idle") {
        this.toggled = true;
        this.start();
      } else {
        this.finish();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.state !== "idle") {
        event.preventDefault();
        this.cancel("Recording cancelled.");
      }
    });
  }

  pressed(event) {
    if (event.button !== 0) return;
    event.preventDefault(); // no focus steal, no text selection on a long press
    if (this.state !== "idle") {
      this.holding = false;
      this.finish(); // the second click of click-to-start, click-to-send
      return;
    }
    this.button.setPointerCapture?.(event.pointerId);
    this.holding = true;
    this.toggled = false;
    this.pressedAt = performance.now();
    this.start();
  }

  released() {
    if (!this.holding) return;
    this.holding = false;
    if (performance.now() - this.pressedAt < HOLD_MS) {
      this.toggled = true; // a click: keep recording until the next one
      this.show();
      return;
    }
    if (this.armedCancel) this.cancel("Recording cancelled.");
    else this.finish();
  }

  moved(event) {
    if (!this.holding || this.state === "idle") return;
    const box = this.button.getBoundingClientRect();
    const away = Math.max(box.left - event.clientX, event.clientX - box.right, box.top - event.clientY, event.clientY - box.bottom);
    const armed = away > SLIDE_CANCEL_PX;
    if (armed !== this.armedCancel) {
      this.armedCancel = armed;
      this.show();
    }
  }

  async start() {
    this.state = "starting";
    this.armedCancel = false;
    this.chunks = [];
    this.button.setAttribute("aria-pressed", "true");
    this.onState(true);
    this.say("Starting the microphone…");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      this.reset();
      this.say(refusal(error));
      return;
    }
    if (this.state !== "starting") {
      this.stopStream(); // cancelled while the browser asked
      return;
    }
    this.recorder = new MediaRecorder(this.stream, { mimeType: this.type });
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size) this.chunks.push(event.data);
    });
    this.recorder.start();
    this.startedAt = performance.now();
    this.state = "recording";
    this.ticker = setInterval(() => this.tick(), 200);
    this.show();
    // Let go before the microphone was ready, past a click's time: send as soon as it is.
    if (!this.holding && !this.toggled) this.finish();
  }

  get seconds() {
    return this.state === "recording" ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  tick() {
    if (this.seconds >= MAX_SECONDS) {
      this.finish(`Stopped at ${MAX_SECONDS} seconds: sending.`);
      return;
    }
    this.show();
  }

  show() {
    if (this.state !== "recording") return;
    const hint = this.armedCancel
      ? "let go to cancel"
      : this.toggled
        ? "click the microphone again to send, Escape to cancel"
        : "let go to send, slide away or press Escape to cancel";
    this.say(`Recording ${clockOf(this.seconds)} / ${clockOf(MAX_SECONDS)}: ${hint}.`);
    this.button.classList.toggle("cancelling", this.armedCancel);
  }

  // Stops and hands over the recording (unless too short).
  finish(note = "") {
    if (this.state === "starting") {
      this.toggled = false; // start() sends once the microphone is ready
      this.holding = false;
      return;
    }
    if (this.state !== "recording") return;
    const seconds = Math.min(this.seconds, MAX_SECONDS);
    const recorder = this.recorder;
    const type = this.type;
    recorder.addEventListener(
      "stop",
      () => {
        const blob = new Blob(this.chunks, { type: recorder.mimeType || type });
        if (seconds < MIN_SECONDS || !blob.size) {
          this.say("Too short: hold the microphone while you speak.");
          return;
        }
        const file = new File([blob], `voice.${extensionOf(blob.type || type)}`, { type: blob.type || type });
        this.say(note);
        this.onRecorded(file, seconds);
      },
      { once: true },
    );
    recorder.stop();
    this.reset();
  }

  cancel(note) {
    if (this.state === "idle") return;
    if (this.state === "recording") {
      this.recorder.addEventListener("stop", () => (this.chunks = []), { once: true });
      this.recorder.stop();
    }
    this.reset();
    this.say(note);
  }

  reset() {
    clearInterval(this.ticker);
    this.state = "idle";
    this.holding = false;
    this.toggled = false;
    this.armedCancel = false;
    this.button.classList.remove("cancelling");
    this.button.setAttribute("aria-pressed", "false");
    this.stopStream();
    this.onState(false);
  }

  stopStream() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }
}

// A voice bubble for a message that arrived live (or a local echo: `local` has no file yet).
export function voiceElement(voice, { unplayed = false, local = false } = {}) {
  const element = cloneTemplate("#voice-template");
  const bars = element.querySelector(".voice-bars");
  const peaks = voice.waveform?.length ? voice.waveform : Array(48).fill(0.15);
  bars.replaceChildren(
    ...peaks.map((peak) => {
      const bar = document.createElement("span");
      bar.className = "voice-bar";
      bar.style.setProperty("--peak", String(Math.max(0, Math.min(1, Number(peak) || 0))));
      return bar;
    }),
  );
  const seconds = voiceSeconds(voice.duration);
  element.querySelector(".voice-duration").textContent = `${seconds}″`;
  if (!local && voice.url) {
    element.dataset.src = voice.url;
    element.dataset.duration = String(voice.duration);
  } else {
    element.classList.add("local");
  }
  element.classList.toggle("unplayed", unplayed);
  labelPlay(element);
  return element;
}

function labelPlay(element) {
  const seconds = voiceSeconds(element.dataset.duration || element.querySelector(".voice-duration").textContent.replace("″", ""));
  const button = element.querySelector(".voice-play");
  const playing = element.classList.contains("playing");
  const unplayed = element.classList.contains("unplayed") ? ", not played yet" : "";
  button.setAttribute("aria-label", `${playing ? "Stop" : "Play"} voice message, ${seconds} seconds${unplayed}`);
  button.setAttribute("aria-pressed", String(playing));
}

export function markPlayed(element) {
  element.classList.remove("unplayed");
  labelPlay(element);
}

// Plays the voice bubbles inside `root` (the message list): one at a time, with a sweep across the
// bars; `onPlayed(element)` when one starts playing that was unplayed (the page tells the server).
// When one ends, the next unplayed voice message after it (not the reader's own) plays.
export function voicePlayback(root, { onPlayed }) {
  const audio = new Audio();
  audio.preload = "none";
  let current = null;
  let frame = 0;

  const sweep = () => {
    if (!current) return;
    const duration = Number(current.dataset.duration) || audio.duration || 1;
    const progress = Math.min(1, audio.currentTime / duration);
    current.style.setProperty("--progress", String(progress));
    const bars = current.querySelectorAll(".voice-bar");
    bars.forEach((bar, index) => bar.classList.toggle("swept", index / bars.length < progress));
    frame = requestAnimationFrame(sweep);
  };

  const stop = () => {
    cancelAnimationFrame(frame);
    audio.pause();
    if (current) {
      current.classList.remove("playing");
      current.style.removeProperty("--progress");
      current.querySelectorAll(".voice-bar.swept").forEach((bar) => bar.classList.remove("swept"));
      labelPlay(current);
    }
    current = null;
  };

  const play = (element) => {
    stop();
    if (!element.dataset.src) return;
    current = element;
    element.classList.add("playing");
    if (element.classList.contains("unplayed")) {
      markPlayed(element);
      onPlayed(element);
    }
    labelPlay(element);
    audio.src = element.dataset.src;
    audio.play().then(
      () => (frame = requestAnimationFrame(sweep)),
      () => {
        if (current === element) stop();
      },
    );
  };

  audio.addEventListener("ended", () => {
    const finished = current;
    stop();
    if (!finished) return;
    const voices = [...root.querySelectorAll(".msg:not(.mine):not(.recalled) .voice[data-src]")];
    const next = voices.slice(voices.indexOf(finished) + 1).find((voice) => voice.classList.contains("unplayed"));
    if (next) play(next);
  });

  root.addEventListener("click", (event) => {
    const button = event.target.closest(".voice-play");
    if (!button) return;
    const element = button.closest(".voice");
    if (element === current) stop();
    else play(element);
  });

  return {
    // A recalled message's bubble went away: its clip is served to no one, so stop it.
    forget(element) {
      if (current && (current === element || !current.isConnected)) stop();
    },
  };
}
