// The chat composer's emoji picker (templates/chat/_emoji_picker.html): a grid of common emoji that
// inserts at the caret of the message box. Keyboard: the button opens it with the focus on the first
// emoji, arrow keys move (Home/End to the row's ends), Enter or Space inserts and closes, Escape
// closes; either way the focus goes back where it was.
const EMOJI = [
  ["😀", "grinning face"], ["😂", "tears of joy"], ["😊", "smiling face"], ["😍", "heart eyes"],
  ["😘", "blowing a kiss"], ["😉", "winking face"], ["😎", "sunglasses"], ["🤔", "thinking face"],
  ["😅", "sweat smile"], ["😭", "crying loudly"], ["😢", "crying face"], ["😮", "open mouth"],
  ["😴", "sleeping face"], ["😡", "angry face"], ["🙄", "rolling eyes"], ["🤣", "rolling on the floor laughing"],
  ["🥰", "smiling with hearts"], ["🤗", "hugging face"], ["🙏", "folded hands"], ["👍", "thumbs up"],
  ["👎", "thumbs down"], ["👏", "clapping hands"], ["🙌", "raising hands"], ["👋", "waving hand"],
  ["💪", "flexed biceps"], ["🤝", "handshake"], ["👌", "OK hand"], ["✌️", "victory hand"],
  ["❤️", "red heart"], ["💔", "broken heart"], ["🔥", "fire"], ["✨", "sparkles"],
  ["🎉", "party popper"], ["🎂", "birthday cake"], ["🌹", "rose"], ["☕", "hot beverage"],
  ["🍜", "steaming bowl"], ["🍺", "beer mug"], ["💯", "hundred points"], ["✅", "check mark"],
];

for (const picker of document.querySelectorAll(".emoji-picker")) {
  const target = document.getElementById(picker.dataset.emojiFor);
  const toggle = picker.querySelector(".emoji-toggle");
  const panel = picker.querySelector(".emoji-panel");
  const grid = picker.querySelector(".emoji-grid");
  if (!target || !toggle) continue;

  const buttons = EMOJI.map(([emoji, name], index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "emoji";
    button.textContent = emoji;
    button.setAttribute("aria-label", name);
    button.tabIndex = index === 0 ? 0 : -1; // one tab stop; arrows move inside
    grid.append(button);
    return button;
  });
  toggle.hidden = false;

  function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    buttons.find((button) => button.tabIndex === 0).focus();
  }

  function close(focusBack) {
    if (panel.hidden) return;
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (focusBack) focusBack.focus();
  }

  function insert(emoji) {
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? start;
    target.setRangeText(emoji, start, end, "end");
    // The counter, the typing frame and the draft listen for input, as they would for a keypress.
    target.dispatchEvent(new Event("input", { bubbles: true }));
    close(target);
  }

  function move(from, to) {
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, to))];
    from.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }

  toggle.addEventListener("click", () => (panel.hidden ? open() : close(toggle)));
  grid.addEventListener("click", (event) => {
    const button = event.target.closest(".emoji");
    if (button) insert(button.textContent);
  });
  grid.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(event.target);
    if (index < 0) return;
    // As many columns as fit (fewer on a narrow phone): read from the laid-out grid.
    const columns = getComputedStyle(grid).gridTemplateColumns.split(" ").length;
    const row = index - (index % columns);
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      ArrowDown: index + columns,
      ArrowUp: index - columns,
      Home: row,
      End: row + columns - 1,
    };
    if (event.key in moves) {
      event.preventDefault();
      move(event.target, moves[event.key]);
    }
  });
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      event.stopPropagation();
      close(toggle);
    }
  });
  // Clicking or tabbing anywhere else closes it.
  document.addEventListener("pointerdown", (event) => {
    if (!picker.contains(event.target)) close(null);
  });
  picker.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !picker.contains(event.relatedTarget)) close(null);
  });
}
