// Length limits and counters for every text field, counted as the server counts: Unicode code points
// of the text with Python's whitespace stripped from both ends (Django's CharField, DRF and the services
// strip, then len()). HTML's maxlength counts UTF-16 units, so an emoji or a rare CJK character would
// use two of a limit the server counts as one: the attribute is replaced by a code-point check here,
// and stays as the (stricter) fallback when JavaScript is off. Loaded on every page by base.html.
// A field with data-counter="ID" shows "used / limit" in #ID (from data-counter-from percent of the limit).

// Python's str.isspace() characters, which str.strip() removes. JavaScript's trim() differs: it strips
// U+FEFF and keeps U+001C..U+001F and U+0085.
const PYTHON_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGE_SPACE = new RegExp(`^[${PYTHON_SPACE}]+|[${PYTHON_SPACE}]+$`, "g");

export function stripLikeServer(text) {
  return text.replace(EDGE_SPACE, "");
}

export function countLikeServer(text) {
  return [...stripLikeServer(text)].length;
}

const counted = new WeakMap(); // field -> its update function

// After a script changes a field's value (which fires no input event), show the new count.
export function recount(field) {
  counted.get(field)?.();
}

function attach(field) {
  const limit = Number(field.getAttribute("maxlength"));
  if (!limit) return;
  field.removeAttribute("maxlength");
  field.dataset.maxChars = String(limit);
  const output = field.dataset.counter ? document.getElementById(field.dataset.counter) : null;
  const shownFrom = (Number(field.dataset.counterFrom) || 0) / 100;
  const update = () => {
    const used = countLikeServer(field.value);
    const over = used > limit;
    field.setCustomValidity(over ? `Use at most ${limit} characters (this has ${used}).` : "");
    if (output) {
      output.textContent = used >= limit * shownFrom ? `${used} / ${limit}` : "";
      output.classList.toggle("over", over);
    }
  };
  counted.set(field, update);
  field.addEventListener("input", update);
  update();
}

document.querySelectorAll("textarea[maxlength], input[maxlength]:not([type=password])").forEach(attach);
