// One way to say when something happened: common/times.py's rules, in JavaScript (tests/front/test_times.py
// renders the same instants both ways). Days are the browser's calendar days; the language is the
// browser's ("zh…" gives Chinese). Every <time data-when="relative"> on the page is refreshed each minute.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WORDS = {
  en: { now: "now", min: (n) => `${n} min`, h: (n) => `${n} h`, today: "Today", yesterday: "Yesterday" },
  zh: { now: "刚刚", min: (n) => `${n}分钟`, h: (n) => `${n}小时`, today: "今天", yesterday: "昨天" },
};

export function languageOf(language = navigator.language) {
  return (language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

function isDayBefore(moment, now) {
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  return sameDay(moment, yesterday);
}

const pad = (n) => String(n).padStart(2, "0");

export function dateLabel(moment, now, lang = languageOf()) {
  if (lang === "zh") {
    const day = `${moment.getMonth() + 1}月${moment.getDate()}日`;
    return moment.getFullYear() === now.getFullYear() ? day : `${moment.getFullYear()}年${day}`;
  }
  const day = `${MONTHS[moment.getMonth()]} ${moment.getDate()}`;
  return moment.getFullYear() === now.getFullYear() ? day : `${day}, ${moment.getFullYear()}`;
}

export function relativeTime(moment, now = new Date(), lang = languageOf()) {
  moment = new Date(moment);
  const words = WORDS[lang];
  const seconds = (now - moment) / 1000;
  if (seconds < 60) return words.now; // also a moment slightly ahead of this clock
  if (seconds < 3600) return words.min(Math.floor(seconds / 60));
  if (sameDay(moment, now)) return words.h(Math.floor(seconds / 3600));
  if (isDayBefore(moment, now)) return `${words.yesterday} ${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
  return dateLabel(moment, now, lang);
}

export function dayLabel(moment, now = new Date(), lang = languageOf()) {
  moment = new Date(moment);
  const words = WORDS[lang];
  if (sameDay(moment, now)) return words.today;
  if (isDayBefore(moment, now)) return words.yesterday;
  return dateLabel(moment, now, lang);
}

export function dayKey(moment) {
  moment = new Date(moment);
  return `${moment.getFullYear()}-${moment.getMonth() + 1}-${moment.getDate()}`;
}

export function refreshTimes(root = document) {
  const now = new Date();
  for (const time of root.querySelectorAll("time[data-when=relative][datetime]")) {
    time.textContent = relativeTime(time.dateTime, now);
  }
}

refreshTimes();
setInterval(refreshTimes, 60_000);
