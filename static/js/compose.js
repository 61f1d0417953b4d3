// Character counters for compose boxes: <textarea data-counter="ID" maxlength="N"> updates #ID.
// Loaded as a same-origin module (the CSP allows no inline script); forms work without it.

function attach(textarea) {
  const output = document.getElementById(textarea.dataset.counter);
  if (!output) return;
  const limit = Number(textarea.getAttribute("maxlength")) || 2000;
  const update = () => {
    // Count code points, as the server does (an emoji is one character, not two).
    const used = Array.from(textarea.value.trim()).length;
    output.textContent = `${used} / ${limit}`;
    output.classList.toggle("over", used > limit);
  };
  textarea.addEventListener("input", update);
  update();
}

document.querySelectorAll("textarea[data-counter]").forEach(attach);
