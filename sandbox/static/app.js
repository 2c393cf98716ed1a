// The sandbox page: four chats drawn from the server's state, kept live by Server-Sent Events.
// No framework and no build step: state in plain objects, each pane re-drawn by keyed reconciliation.
"use strict";

const PANES = ["user", "staff", "deputy", "director"];
const S = {
  generation: null,
  meta: {},
  chats: new Map(), // chat id -> chat
  msgs: new Map(), // chat id -> Map(message id -> message)
  people: [],
  sel: { user: null, staff: null, thread: null }, // thread: null = topic list, 0 = General, n = topic
  reply: {}, // pane -> {chat_id, message_id, sender, snippet}
  file: {}, // pane -> File
  seen: {}, // view key -> highest message id seen
  active: "user",
};

const $ = (sel, root = document) => root.querySelector(sel);
// Icons are inline SVG: emoji fonts are not on every machine, and nothing is fetched from outside.
const ICONS = {
  clip: '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" d="M20 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.4 8.4a1.7 1.7 0 0 1-2.4-2.4l7.7-7.7"/></svg>',
  send: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4l17.5-7.5a1 1 0 0 0 0-1.8L3.4 3.6a.9.9 0 0 0-1.3 1l1.7 6.1 9.2 1.3-9.2 1.3-1.7 6.1a.9.9 0 0 0 1.3 1z"/></svg>',
  file: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="#fff" d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5L13 3.5z"/></svg>',
};
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};

// ---- people and chats -------------------------------------------------------------------------
const person = (key) => S.people.find((p) => p.key === key);
const bySide = (side) => S.people.filter((p) => p.side === side);
const initials = (name) => (name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
const colorOf = (id) => COLORS[Math.abs(Number(id)) % COLORS.length];

function paneChat(pane) {
  if (pane === "staff") return S.meta.staff_chat_id;
  const p = pane === "user" ? person(S.sel.user) : bySide(pane)[0];
  return p ? p.id : null;
}
function paneActor(pane) {
  if (pane === "staff") return person(S.sel.staff);
  if (pane === "user") return person(S.sel.user);
  return bySide(pane)[0];
}
function isForum() {
  const chat = S.chats.get(S.meta.staff_chat_id);
  return Boolean(chat && chat.is_forum);
}
function viewKey(pane) {
  const chat = paneChat(pane);
  if (pane === "staff" && isForum()) return `${chat}:${S.sel.thread}`;
  return String(chat);
}
function viewMessages(pane) {
  const chat = paneChat(pane);
  const all = [...(S.msgs.get(chat) || new Map()).values()].sort((a, b) => a.message_id - b.message_id);
  if (pane !== "staff" || !isForum()) return all;
  if (S.sel.thread === null) return [];
  if (S.sel.thread === 0) return all.filter((m) => !m.thread_id);
  return all.filter((m) => m.thread_id === S.sel.thread);
}

// ---- message rendering ------------------------------------------------------------------------
// Message times in the school's time zone, as the bot's clock sees them (the sandbox dates messages by it).
let timeFmt = new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit" });
let timeZone = null;
function messageTime(date) {
  const zone = S.meta.clock && S.meta.clock.timezone;
  if (zone && zone !== timeZone) {
    timeZone = zone;
    timeFmt = new Intl.DateTimeFormat("ru-RU", { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  }
  return timeFmt.format(new Date(date * 1000));
}
function formatSize(n) {
  if (!n && n !== 0) return "";
  if (n < 1024) return `${n} Б`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} КБ`;
  return `${(n / 1024 / 1024).toFixed(1)} МБ`;
}

function mediaNode(m) {
  const media = m.media;
  if (!media) return null;
  const src = media.file_id ? `/media/${encodeURIComponent(media.file_id)}` : null;
  if (media.type === "photo") {
    const img = el("img", { class: "photo", src, alt: "Фото", loading: "lazy" });
    if (media.width && media.height) img.style.aspectRatio = `${media.width} / ${media.height}`;
    return el("a", { href: src, target: "_blank", class: "photo-link" }, img);
  }
  if (media.type === "location") return el("div", { class: "doc" }, `📍 ${media.latitude}, ${media.longitude}`);
  if (media.type === "contact") return el("div", { class: "doc" }, `👤 ${media.first_name} ${media.phone_number}`);
  if (media.type === "sticker") return el("div", { class: "sticker" }, media.emoji || "🖼");
  const icon = el("span", { html: ICONS.file });
  const name = media.file_name || { voice: "Голосовое сообщение", video_note: "Видеосообщение" }[media.type] || "Файл";
  return el(
    "a",
    { class: "doc", href: src, download: media.file_name || "" },
    el("span", { class: "doc-icon" }, icon),
    el("span", { class: "doc-body" }, el("span", { class: "doc-name" }, name), el("span", { class: "doc-size" }, formatSize(media.size))),
  );
}

function isOwn(pane, m) {
  if (m.from_bot) return false;
  const actor = paneActor(pane);
  return Boolean(actor && m.sender_id === actor.id);
}

function messageNode(pane, m) {
  const key = `${m.chat_id}:${m.message_id}`;
  if (m.service) {
    return el("div", { class: "msg service", "data-key": key }, el("span", {}, m.service));
  }
  if (m.deleted) {
    return el("div", { class: "msg service deleted", "data-key": key }, el("span", {}, m.from_bot ? "Бот удалил сообщение" : "Сообщение удалено"));
  }
  const own = isOwn(pane, m);
  const chat = S.chats.get(m.chat_id);
  const group = chat && chat.type !== "private";
  const bubble = el("div", { class: "bubble" });
  if (group && !own) {
    bubble.append(el("div", { class: "author", style: `color:${colorOf(m.sender_id)}` }, m.from_bot ? `${m.sender} · бот` : m.sender));
  }
  if (m.reply_to && !m.reply_to.is_topic_start) {
    const target = m.reply_to;
    bubble.append(
      el(
        "button",
        { type: "button", class: "quote", title: "Показать сообщение", onclick: () => flash(pane, `${m.chat_id}:${target.message_id}`) },
        el("b", {}, target.sender || "Сообщение"),
        el("span", {}, target.snippet || ""),
      ),
    );
  }
  const media = mediaNode(m);
  if (media) bubble.append(media);
  if (m.html) {
    const text = el("div", { class: "text", html: m.html });
    for (const sp of text.querySelectorAll(".spoiler")) sp.addEventListener("click", () => sp.classList.add("revealed"));
    bubble.append(text);
  }
  const when = m.date ? messageTime(m.date) : "";
  bubble.append(
    el(
      "div",
      { class: "meta" },
      m.edited ? el("span", { class: "edited" }, "изменено") : null,
      el("span", { class: "time" }, when),
      el("button", { type: "button", class: "reply-btn", title: "Ответить", "aria-label": "Ответить", onclick: () => setReply(pane, m) }, "↩ ответить"),
    ),
  );
  const node = el("div", { class: `msg ${own ? "out" : "in"}`, "data-key": key, "data-id": m.message_id }, bubble);
  node.addEventListener("dblclick", (ev) => {
    if (!ev.target.closest("button, a")) setReply(pane, m);
  });
  if (m.buttons && m.buttons.length) {
    const kb = el("div", { class: "ikb" });
    for (const row of m.buttons) {
      const r = el("div", { class: "ikb-row" });
      for (const b of row) {
        if (b.url) r.append(el("a", { class: "ikb-btn url", href: b.url, target: "_blank", rel: "noopener noreferrer" }, b.text));
        else if (b.data !== undefined) r.append(el("button", { type: "button", class: "ikb-btn", onclick: (ev) => press(pane, m, b, ev.currentTarget) }, b.text));
        else r.append(el("span", { class: "ikb-btn disabled" }, b.text));
      }
      kb.append(r);
    }
    node.append(kb);
  }
  return node;
}

function flash(pane, key) {
  const node = document.querySelector(`#pane-${pane} .msgs [data-key="${key}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

// ---- panes ------------------------------------------------------------------------------------
function setupPane(pane) {
  const root = $(`#pane-${pane}`);
  const box = el("div", { class: "msgs", role: "log", "aria-live": "polite" });
  // Follow new messages only while the reader is at the bottom, as chat apps do.
  box.addEventListener("scroll", () => {
    if (!box.hidden) box.dataset.atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60 ? "1" : "0";
  });
  box.addEventListener("load", () => {
    if (box.dataset.atBottom !== "0") box.scrollTop = box.scrollHeight;
  }, true);
  root.append(box);
  const replying = el(
    "div",
    { class: "replying", hidden: true },
    el("div", { class: "replying-body" }, el("b", {}), el("span", {})),
    el("button", { type: "button", class: "x", title: "Не отвечать", "aria-label": "Не отвечать", onclick: () => setReply(pane, null) }, "×"),
  );
  const attached = el(
    "div",
    { class: "attached", hidden: true },
    el("span", {}),
    el("button", { type: "button", class: "x", title: "Убрать файл", "aria-label": "Убрать файл", onclick: () => setFile(pane, null) }, "×"),
  );
  const fileInput = el("input", { type: "file", class: "file", hidden: true, onchange: (ev) => setFile(pane, ev.target.files[0] || null) });
  const text = el("textarea", { rows: "1", placeholder: "Сообщение", "aria-label": "Текст сообщения" });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener("input", () => autosize(text));
  const form = el(
    "form",
    { class: "composer" },
    el("label", { class: "attach", title: "Прикрепить фото или файл", html: ICONS.clip }, fileInput),
    text,
    el("button", { type: "submit", class: "send", title: "Отправить", "aria-label": "Отправить", html: ICONS.send }),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(pane);
  });
  root.append(replying, attached, form, el("div", { class: "reply-kb", hidden: true }));
  root.addEventListener("click", () => markSeen(pane));
}

function autosize(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 140)}px`;
}

function renderMessages(pane) {
  const box = $(`#pane-${pane} .msgs`);
  box.hidden = pane === "staff" && isForum() && S.sel.thread === null;
  const nearBottom = box.dataset.atBottom !== "0";
  const list = viewMessages(pane);
  const existing = new Map([...box.children].map((n) => [n.dataset.key, n]));
  let prev = null;
  for (const m of list) {
    const key = `${m.chat_id}:${m.message_id}`;
    const sig = JSON.stringify(m) + (isOwn(pane, m) ? "o" : "i");
    let node = existing.get(key);
    existing.delete(key);
    if (!node || node.dataset.sig !== sig) {
      const fresh = messageNode(pane, m);
      fresh.dataset.sig = sig;
      if (node) node.replaceWith(fresh);
      node = fresh;
    }
    const want = prev ? prev.nextSibling : box.firstChild;
    if (want !== node) box.insertBefore(node, want);
    prev = node;
  }
  for (const n of existing.values()) n.remove();
  if (!list.length && !(pane === "staff" && isForum() && S.sel.thread === null)) {
    box.dataset.empty = emptyText(pane);
  } else delete box.dataset.empty;
  if (nearBottom || box.dataset.stick === "1") {
    box.scrollTop = box.scrollHeight;
    box.dataset.stick = "";
    box.dataset.atBottom = "1";
  }
}

function emptyText(pane) {
  if (pane === "user") return "Напишите боту /start или просто свой вопрос.";
  if (pane === "staff") return "Здесь появятся вопросы пользователей.";
  if (pane === "deputy") return "Сюда бот пишет сводки и вопросы, которые долго остаются без ответа.";
  return "Сюда бот пишет о жалобах пользователей на работу специалистов.";
}

function renderTopics() {
  const box = $("#topics");
  const forum = isForum();
  const list = forum && S.sel.thread === null;
  box.hidden = !list;
  $("#topics-back").hidden = !forum || S.sel.thread === null;
  const chatId = S.meta.staff_chat_id;
  const chat = S.chats.get(chatId);
  const title = $("#staff-title");
  if (forum && S.sel.thread !== null) {
    const topic = chat.topics.find((t) => t.thread_id === S.sel.thread);
    title.textContent = S.sel.thread === 0 ? "Общий" : topic ? topic.name : "Тема удалена";
  } else title.textContent = chat ? chat.title : "Группа специалистов";
  $("#staff-mode").textContent = forum ? "темы" : "без тем";
  if (!list) return;
  const msgs = [...(S.msgs.get(chatId) || new Map()).values()];
  const entries = [{ thread_id: 0, name: "Общий", general: true }, ...[...chat.topics].reverse()];
  box.replaceChildren(
    ...entries.map((t) => {
      const inTopic = msgs.filter((m) => (t.general ? !m.thread_id : m.thread_id === t.thread_id) && !m.service && !m.deleted);
      const last = inTopic.sort((a, b) => a.message_id - b.message_id).at(-1);
      const seen = S.seen[`${chatId}:${t.thread_id}`] || 0;
      const unread = inTopic.filter((m) => m.message_id > seen && m.sender_id !== (paneActor("staff") || {}).id).length;
      const snippet = last ? `${last.from_bot ? "бот" : last.sender}: ${textOf(last)}` : "нет сообщений";
      return el(
        "button",
        { type: "button", class: `topic${t.closed ? " closed" : ""}`, "data-thread": t.thread_id, onclick: () => openThread(t.thread_id) },
        el("span", { class: "topic-icon", style: `background:${t.general ? "#8e99a4" : `#${(t.icon_color || 0x6fb9f0).toString(16).padStart(6, "0")}`}` }, t.general ? "#" : initials(t.name.split("·")[0])),
        el("span", { class: "topic-body" }, el("span", { class: "topic-name" }, t.name, t.closed ? " 🔒" : ""), el("span", { class: "topic-last" }, snippet)),
        unread ? el("span", { class: "unread" }, String(unread)) : null,
      );
    }),
  );
}

function textOf(m) {
  const div = document.createElement("div");
  div.innerHTML = m.html || "";
  const text = div.textContent.replace(/\s+/g, " ").trim();
  if (text) return text.slice(0, 80);
  return m.media ? { photo: "Фото", document: "Файл" }[m.media.type] || "Вложение" : "";
}

function openThread(thread) {
  S.sel.thread = thread;
  setReply("staff", null);
  $("#pane-staff .msgs").dataset.stick = "1";
  renderPane("staff");
  markSeen("staff");
}

function renderReplyKeyboard(pane) {
  const box = $(`#pane-${pane} .reply-kb`);
  const chat = S.chats.get(paneChat(pane));
  const kb = chat && chat.keyboard;
  box.hidden = !kb;
  if (!kb) return box.replaceChildren();
  box.replaceChildren(
    ...kb.rows.map((row) => el("div", { class: "rkb-row" }, ...row.map((t) => el("button", { type: "button", class: "rkb-btn", onclick: () => send(pane, t) }, t)))),
  );
  if (kb.placeholder) $(`#pane-${pane} textarea`).placeholder = kb.placeholder;
}

function renderHead(pane) {
  const root = $(`#pane-${pane}`);
  const actor = paneActor(pane);
  const avatar = $("[data-role=avatar]", root);
  if (avatar && actor) {
    avatar.textContent = initials(actor.name);
    avatar.style.background = colorOf(actor.id);
  }
  const name = $("[data-role=name]", root);
  if (name && actor) name.textContent = actor.name;
  const composer = $(".composer", root);
  const forumList = pane === "staff" && isForum() && S.sel.thread === null;
  composer.hidden = forumList || !actor;
}

function renderPane(pane) {
  if (!S.meta.staff_chat_id) return;
  renderHead(pane);
  if (pane === "staff") renderTopics();
  renderMessages(pane);
  renderReplyKeyboard(pane);
  renderUnread();
}

function renderSelects() {
  const fill = (select, people, selected, withLabel) => {
    const value = select.value;
    select.replaceChildren(...people.map((p) => el("option", { value: p.key, selected: p.key === selected }, withLabel ? `${p.name} — ${p.label}` : p.name)));
    if (!people.some((p) => p.key === value)) select.value = selected || "";
    else select.value = selected;
  };
  fill($("#user-select"), [...bySide("user"), ...bySide("staff")], S.sel.user, true);
  fill($("#staff-select"), bySide("staff"), S.sel.staff, false);
}

function renderAll() {
  renderSelects();
  for (const pane of PANES) renderPane(pane);
  renderStatus();
}

// ---- unread counters (tabs on a phone, topics in the forum) ---------------------------------------
function visible(pane) {
  const root = $(`#pane-${pane}`);
  return root.offsetParent !== null && !document.hidden;
}
function markSeen(pane) {
  const msgs = viewMessages(pane);
  if (!msgs.length) return;
  const key = viewKey(pane);
  S.seen[key] = Math.max(S.seen[key] || 0, msgs.at(-1).message_id);
  renderUnread();
}
function renderUnread() {
  for (const pane of PANES) {
    if (!S.meta.staff_chat_id) continue;
    let count = 0;
    if (visible(pane) && !(pane === "staff" && isForum() && S.sel.thread === null)) {
      markSeenQuiet(pane);
    } else {
      const actor = paneActor(pane);
      const chat = paneChat(pane);
      const all = [...(S.msgs.get(chat) || new Map()).values()];
      count = all.filter((m) => {
        if (m.service || m.deleted || (actor && m.sender_id === actor.id)) return false;
        const key = pane === "staff" && isForum() ? `${chat}:${m.thread_id || 0}` : String(chat);
        return m.message_id > (S.seen[key] || 0);
      }).length;
    }
    const badge = $(`#tabs [data-pane=${pane}] .count`);
    badge.textContent = count ? String(count) : "";
  }
}
function markSeenQuiet(pane) {
  const msgs = viewMessages(pane);
  if (!msgs.length) return;
  const key = viewKey(pane);
  S.seen[key] = Math.max(S.seen[key] || 0, msgs.at(-1).message_id);
}

// ---- header: clock and bot status ----------------------------------------------------------------
function renderClock() {
  const c = S.meta.clock;
  if (!c) return;
  const now = new Date(Date.now() + c.offset_ms);
  const fmt = new Intl.DateTimeFormat("ru-RU", { timeZone: c.timezone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  $("#clock").textContent = fmt.format(now);
  $("#clock-shifted").hidden = !c.shifted;
}
function localInputValue() {
  const c = S.meta.clock;
  const now = new Date(Date.now() + (c ? c.offset_ms : 0));
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: c ? c.timezone : undefined, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const STATUS_TEXT = { running: "работает", starting: "запускается…", stopping: "останавливается…", stopped: "остановлен", error: "ошибка" };
let connected = false;
function renderStatus() {
  const status = connected ? S.meta.status : "offline";
  const text = connected ? STATUS_TEXT[status] || status : "нет связи со страницей песочницы";
  $("#status").textContent = S.meta.error && status === "error" ? `${text}: ${S.meta.error}` : text;
  $("#status-dot").className = `dot ${status}`;
  $("#status-dot").title = `Бот: ${text}`;
  document.body.dataset.bot = status;
  if (S.meta.school) $("#school").textContent = `${S.meta.school} · бот поддержки по ЭЖ и ЭД`;
}

// ---- state from the server ----------------------------------------------------------------------
function storeMessages(list) {
  for (const m of list) {
    if (!S.msgs.has(m.chat_id)) S.msgs.set(m.chat_id, new Map());
    S.msgs.get(m.chat_id).set(m.message_id, m);
  }
}
function applyMeta(meta) {
  S.meta = { ...S.meta, ...meta };
  S.people = S.meta.people || [];
  // The chat with the bot is a user's, or a specialist's own (where the bot tells them what they take).
  if (!person(S.sel.user) || !["user", "staff"].includes(person(S.sel.user).side)) S.sel.user = (bySide("user")[0] || {}).key || null;
  if (!person(S.sel.staff) || person(S.sel.staff).side !== "staff") S.sel.staff = (bySide("staff")[0] || {}).key || null;
}
function applyState(state) {
  const { messages, chats, ...meta } = state;
  const fresh = S.generation !== state.generation;
  S.generation = state.generation;
  S.chats = new Map(chats.map((c) => [c.id, c]));
  S.msgs = new Map();
  storeMessages(messages);
  if (fresh) {
    S.sel.thread = null;
    S.seen = {};
    S.reply = {};
    S.file = {};
    for (const pane of PANES) {
      setReply(pane, null);
      setFile(pane, null);
    }
  }
  applyMeta(meta);
  for (const pane of PANES) $(`#pane-${pane} .msgs`).dataset.stick = "1";
  renderAll();
  renderClock();
}
function applyPatch(patch) {
  for (const c of patch.chats || []) S.chats.set(c.id, c);
  storeMessages(patch.messages || []);
  if (patch.meta) applyMeta(patch.meta);
  if (S.sel.thread && !(S.chats.get(S.meta.staff_chat_id) || { topics: [] }).topics.some((t) => t.thread_id === S.sel.thread)) {
    S.sel.thread = null;
  }
  if (patch.meta) renderSelects();
  for (const pane of PANES) renderPane(pane);
  renderStatus();
  renderClock();
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    connected = true;
    renderStatus();
  });
  source.addEventListener("error", () => {
    connected = false;
    renderStatus();
  });
  source.addEventListener("state", (ev) => {
    connected = true;
    applyState(JSON.parse(ev.data));
  });
  source.addEventListener("patch", (ev) => applyPatch(JSON.parse(ev.data)));
}

// ---- actions ----------------------------------------------------------------------------------
async function api(path, body) {
  const init = { method: "POST" };
  if (body instanceof FormData) init.body = body;
  else {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body || {});
  }
  let data = {};
  try {
    const res = await fetch(path, init);
    data = await res.json().catch(() => ({}));
    if (!res.ok || data.ok === false) throw new Error(data.error || `HTTP ${res.status}`);
  } catch (err) {
    toast(`Не получилось: ${err.message}`, "error");
    return null;
  }
  return data;
}

function setReply(pane, m) {
  const root = $(`#pane-${pane}`);
  const bar = $(".replying", root);
  if (!bar) return;
  if (!m) {
    delete S.reply[pane];
    bar.hidden = true;
    return;
  }
  S.reply[pane] = { chat_id: m.chat_id, message_id: m.message_id };
  $("b", bar).textContent = `Ответ: ${m.from_bot ? "бот" : m.sender}`;
  $("span", bar).textContent = textOf(m);
  bar.hidden = false;
  $("textarea", root).focus();
}

function setFile(pane, file) {
  const root = $(`#pane-${pane}`);
  const bar = $(".attached", root);
  if (!bar) return;
  if (!file) {
    delete S.file[pane];
    bar.hidden = true;
    $("input[type=file]", root).value = "";
    return;
  }
  S.file[pane] = file;
  const kind = /^image\/(jpeg|png|webp)$/.test(file.type) ? "Фото" : "Файл";
  $("span", bar).textContent = `${kind}: ${file.name} (${formatSize(file.size)}) — текст станет подписью`;
  bar.hidden = false;
}

async function send(pane, presetText) {
  const root = $(`#pane-${pane}`);
  const textarea = $("textarea", root);
  const actor = paneActor(pane);
  const chatId = paneChat(pane);
  if (!actor || !chatId) return;
  const text = presetText !== undefined ? presetText : textarea.value;
  const file = presetText !== undefined ? null : S.file[pane];
  if (!text.trim() && !file) return;
  const form = new FormData();
  form.append("user_id", actor.id);
  form.append("chat_id", chatId);
  form.append("text", text);
  if (pane === "staff" && isForum() && S.sel.thread) form.append("thread_id", S.sel.thread);
  const reply = S.reply[pane];
  if (reply && reply.chat_id === chatId) form.append("reply_to", reply.message_id);
  if (file) form.append("file", file, file.name);
  $(`#pane-${pane} .msgs`).dataset.stick = "1";
  const result = await api("/api/send", form);
  if (result && presetText === undefined) {
    textarea.value = "";
    autosize(textarea);
    setFile(pane, null);
  }
  if (result) setReply(pane, null);
}

async function press(pane, m, button, node) {
  const actor = paneActor(pane);
  if (!actor) return;
  node.classList.add("busy");
  node.disabled = true;
  const result = await api("/api/press", { user_id: actor.id, chat_id: m.chat_id, message_id: m.message_id, data: button.data });
  node.classList.remove("busy");
  node.disabled = false;
  if (!result) return;
  if (result.text && result.show_alert) {
    $("#alert-text").textContent = result.text;
    $("#dlg-alert").showModal();
  } else if (result.text) toast(result.text);
  if (result.url) window.open(result.url, "_blank", "noopener");
}

function toast(text, kind = "info") {
  const node = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("#toasts").append(node);
  setTimeout(() => node.classList.add("gone"), 3500);
  setTimeout(() => node.remove(), 4000);
}

function dialog(id, onOk, prepare) {
  const dlg = $(id);
  const form = $("form", dlg);
  form.reset();
  if (prepare) prepare(form);
  dlg.returnValue = "";
  dlg.showModal();
  dlg.addEventListener(
    "close",
    () => {
      if (dlg.returnValue === "ok") onOk(new FormData(form));
    },
    { once: true },
  );
}

function selectPane(pane) {
  S.active = pane;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.pane === pane);
  for (const p of PANES) $(`#pane-${p}`).classList.toggle("active", p === pane);
  $(`#pane-${pane} .msgs`).dataset.stick = "1";
  renderPane(pane);
}

function bind() {
  for (const pane of PANES) setupPane(pane);
  $("#user-select").addEventListener("change", (ev) => {
    S.sel.user = ev.target.value;
    setReply("user", null);
    $("#pane-user .msgs").dataset.stick = "1";
    renderPane("user");
  });
  $("#staff-select").addEventListener("change", (ev) => {
    S.sel.staff = ev.target.value;
    renderPane("staff");
  });
  $("#topics-back").addEventListener("click", () => openThread(null));
  $("#add-user").addEventListener("click", () =>
    dialog("#dlg-user", async (data) => {
      const result = await api("/api/users", { first_name: data.get("first_name"), last_name: data.get("last_name") });
      if (result) {
        S.sel.user = result.person.key;
        S.people = [...S.people.filter((p) => p.key !== result.person.key), result.person];
        renderSelects();
        $("#pane-user .msgs").dataset.stick = "1";
        renderPane("user");
      }
    }),
  );
  $("#restart").addEventListener("click", async (ev) => {
    ev.currentTarget.disabled = true;
    const result = await api("/api/restart");
    $("#restart").disabled = false;
    if (result) toast("Бот перезапущен: переписка и вопросы сохранились.");
  });
  $("#history").addEventListener("click", async (ev) => {
    ev.currentTarget.disabled = true;
    const result = await api("/api/history");
    $("#history").disabled = false;
    if (result) {
      toast(`Добавлена история за месяц: ${result.tickets} вопросов. Отчёт — во вкладке «Зам. дир.».`);
      selectPane("deputy");
    }
  });
  $("#reset").addEventListener("click", () =>
    dialog(
      "#dlg-reset",
      async (data) => {
        const result = await api("/api/reset", { forum: data.get("mode") === "forum" });
        if (result) toast("Начали заново.");
      },
      (form) => {
        form.elements.mode.value = isForum() ? "forum" : "plain";
      },
    ),
  );
  $("#clock-preset").addEventListener("change", async (ev) => {
    const value = ev.target.value;
    ev.target.value = "";
    if (!value) return;
    if (value === "custom") {
      dialog("#dlg-clock", (data) => api("/api/clock", { moment: data.get("moment") }), (form) => {
        form.elements.moment.value = localInputValue();
      });
    } else if (value === "real") await api("/api/clock", { real: true });
    else if (value.startsWith("+")) await api("/api/clock", { advance_minutes: Number(value.slice(1)) });
    else await api("/api/clock", { preset: value });
  });
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => selectPane(b.dataset.pane));
  document.addEventListener("visibilitychange", renderUnread);
  window.addEventListener("resize", renderUnread);
  setInterval(renderClock, 1000);
}

bind();
connect();
