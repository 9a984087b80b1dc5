// Switchboard web chat: plain DOM, replies built from the server's Markdown tree (markdown.js),
// SSE over fetch.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("sb.token") || "",  // per tab: never shared with other tabs
  session: localStorage.getItem("sb.session") || null,
  busy: false,
  files: [],        // pending: { file, url } where url is an object URL for images, else ""
  shown: new Set(), // object URLs of thumbnails in the conversation, freed when it is cleared
  menu: false,      // the model and persona pickers are filled
};

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h.Authorization = "Bearer " + state.token;
  return h;
}

function setSession(id) {
  state.session = id;
  if (id) localStorage.setItem("sb.session", id); else localStorage.removeItem("sb.session");
}

function showError(text) { $("error").textContent = text || ""; }

function setText(div, text, tree) {
  // Never innerHTML: replies may contain markup. The user's own words stay plain text.
  // A finished reply comes with the server's tree; a growing one is rendered here meanwhile.
  div.raw = text;
  if (!div.classList.contains("ai")) div.textContent = text;
  else div.replaceChildren(tree ? renderTree(tree) : renderMarkdown(text));
}

function addMessage(role, text, tree, files) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  setText(div, text, tree);
  if (files && files.length) div.prepend(fileList(files));
  $("messages").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

// Files: chosen, pasted or dropped; shown as chips until sent, then in the user's bubble.
// File names are the user's text: always textContent or attributes, never markup.

const isImage = (file) => /^image\//.test(file.type);

function fileIcon(file) {
  // A small badge with the name's extension (PDF, MD, OGG...); no emoji font needed.
  const ext = /\.([a-z0-9]{1,5})$/i.exec(file.name);
  if (ext) return ext[1].toUpperCase();
  if (isImage(file)) return "IMG";
  return /^audio\//.test(file.type) ? "AUDIO" : "FILE";
}

function fileBadge(item, tag) {
  const el = document.createElement(tag);
  el.className = "file";
  if (item.url) {
    const img = document.createElement("img");
    img.src = item.url;
    img.alt = item.file.name;
    img.title = item.file.name;
    el.appendChild(img);
  } else {
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = fileIcon(item.file);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = item.file.name;
    el.append(icon, name);
  }
  return el;
}

// A stored message's files, as the history API names them (images are kept, not shown again).
function sentFiles(m) {
  const named = (m.files || []).map((name) => ({ file: { name: name, type: "" } }));
  const images = Array.from({ length: m.images || 0 }, () => ({ file: { name: "image", type: "image/" } }));
  return named.concat(images);
}

function fileList(items) {
  const box = document.createElement("div");
  box.className = "files";
  for (const item of items) {
    if (item.url) state.shown.add(item.url);
    box.appendChild(fileBadge(item, "span"));
  }
  return box;
}

function renderPending() {
  const list = $("pending");
  list.replaceChildren();
  for (const item of state.files) {
    const chip = fileBadge(item, "li");
    chip.classList.add("chip");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", "Remove " + item.file.name);
    remove.addEventListener("click", () => {
      state.files = state.files.filter((f) => f !== item);
      if (item.url) URL.revokeObjectURL(item.url);
      renderPending();
      $("input").focus();
    });
    chip.appendChild(remove);
    list.appendChild(chip);
  }
  list.hidden = state.files.length === 0;
}

function addFiles(files) {
  for (const file of files) {
    state.files.push({ file, url: isImage(file) ? URL.createObjectURL(file) : "" });
  }
  renderPending();
}

function clearConversation() {
  $("messages").replaceChildren();
  for (const url of state.shown) URL.revokeObjectURL(url);
  state.shown.clear();
}

// Model and persona: two pickers filled from GET /v1/models. The server keeps a choice with the
// conversation, so a picker's value is sent only when it differs from what this page last sent
// for the conversation (remembered per conversation in this browser; a new one has "default").

const CHOICES = ["model", "persona"];

function sentFor(id) {
  const had = { model: "default", persona: "default" };
  if (!id) return had;
  try { return Object.assign(had, JSON.parse(localStorage.getItem("sb.choice." + id) || "{}")); }
  catch (_) { return had; }
}

function remember(id, choice) {
  if (id) localStorage.setItem("sb.choice." + id, JSON.stringify(choice));
}

function fillPicker(name, options) {
  const select = $(name);
  select.replaceChildren();
  for (const o of options) {
    const option = document.createElement("option");
    option.value = o.name;
    option.textContent = o.name;  // the operator's text: never markup
    if (o.description) option.title = o.description;
    select.appendChild(option);
  }
  $(name + "-choice").hidden = options.length <= 1;  // just the default: nothing to choose
}

function showChoices(choice) {
  for (const name of CHOICES) {
    const select = $(name);
    if (Array.from(select.options).some((o) => o.value === choice[name])) select.value = choice[name];
    else if (select.options.length) select.selectedIndex = 0;
  }
}

async function loadModels() {
  const data = await (await api("/v1/models")).json();
  fillPicker("model", data.models);
  fillPicker("persona", data.personas);
  showChoices(sentFor(state.session));
  state.menu = true;
}

function picked() {
  // { all: what the conversation will use, send: the part it does not have yet }
  const all = sentFor(state.session), send = {};
  for (const name of CHOICES) {
    const select = $(name);
    if (select.options.length > 1 && select.value && select.value !== all[name]) {
      send[name] = all[name] = select.value;
    }
  }
  return { all, send };
}

// Regenerate: one button under the last answer, with a fresh Idempotency-Key each time it is
// drawn, so a double click (or a retried request) is one regeneration.

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs https
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function dropRegenerate() {
  for (const old of document.querySelectorAll("#messages .actions")) old.remove();
}

function placeRegenerate() {
  dropRegenerate();
  const last = $("messages").lastElementChild;
  if (!last || !last.classList.contains("ai") || !state.session) return;
  const bar = document.createElement("div");
  bar.className = "actions";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "regenerate";
  button.textContent = "Regenerate";
  button.title = "Answer the last message again, in place of this answer";
  const key = newKey();
  button.addEventListener("click", () => regenerate(last, button, key));
  bar.appendChild(button);
  $("messages").appendChild(bar);
}

async function regenerate(bubble, button, key) {
  if (button.disabled || state.busy) return;
  button.disabled = true;
  state.busy = true;
  $("send").disabled = true;
  showError("");
  bubble.classList.add("regenerating");
  const id = state.session;
  const path = "/v1/sessions/" + encodeURIComponent(id);
  try {
    const res = await api(path + "/regenerate", { method: "POST", headers: { "Idempotency-Key": key } });
    const reply = (await res.json()).reply;
    let tree = null;  // the server's tree, as for every finished answer
    try {
      const last = (await (await api(path + "/messages?limit=1")).json()).messages.pop();
      if (last && last.role === "ai" && last.text === reply) tree = last.rendered;
    } catch (_) { /* rendered here instead */ }
    if (bubble.isConnected) setText(bubble, reply, tree);
  } catch (err) {
    showError(err.message);
  } finally {
    bubble.classList.remove("regenerating");
    state.busy = false;
    $("send").disabled = false;
    if (bubble.isConnected && state.session === id) placeRegenerate();
  }
}

function appendText(div, text) {
  // Re-rendered at most once a frame, however fast the tokens arrive.
  div.raw += text;
  if (div.pending) return;
  div.pending = requestAnimationFrame(() => { div.pending = 0; setText(div, div.raw); });
}

function finish(div, text, tree) {
  if (div.pending) cancelAnimationFrame(div.pending);
  div.pending = 0;
  setText(div, text, tree);
  div.classList.remove("streaming");
}

async function api(path, options) {
  const res = await fetch(path, Object.assign({}, options, { headers: headers((options || {}).headers) }));
  if (res.status === 401) {
    $("status").textContent = state.token ? "Token rejected: paste a new one" : "Paste a token to start";
  }
  if (!res.ok) {
    let message = res.status + " " + res.statusText;
    try { message = (await res.json()).error || message; } catch (_) { /* not JSON */ }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return res;
}

async function loadSessions() {
  const data = await (await api("/v1/sessions")).json();
  $("status").textContent = state.token ? "Signed in with a token" : "Local development user";
  if (!state.menu) loadModels().catch(() => {});
  const list = $("sessions");
  list.replaceChildren();
  for (const s of data.sessions) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = s.title || "(untitled)";
    button.title = s.title;
    button.dataset.session = s.session_id;
    if (s.session_id === state.session) button.className = "current";
    button.addEventListener("click", () => openSession(s.session_id));
    li.appendChild(button);
    list.appendChild(li);
  }
}

async function openSession(id) {
  showError("");
  setSession(id);
  clearConversation();
  if (!id) return loadSessions();
  try {
    const data = await (await api("/v1/sessions/" + encodeURIComponent(id) + "/messages")).json();
    let bubble = null, asked = null;
    for (const m of data.messages) {
      bubble = addMessage(m.role, m.text, m.rendered, sentFiles(m));
      asked = m.confirmation;  // only ever on the last answer
    }
    if (asked) placeConfirm(bubble, asked);  // confirm.js
    placeRegenerate();
    showChoices(sentFor(id));
  } catch (err) {
    if (err.status === 404) setSession(null); else showError(err.message);
  }
  await loadSessions().catch(() => {});
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { name, data: data.length ? JSON.parse(data.join("\n")) : null };
}

// A tool the answer is using, by name ("docs__lookup" shows as "Using docs lookup…").
function showTool(tool) {
  const running = tool && tool.state === "running";
  $("tool-status").textContent = running ? "Using " + tool.name.replace(/_+/g, " ") + "…" : "";
}

function handleEvent(ev, bubble) {
  if (ev.name === "session") setSession(ev.data.session_id);
  else if (ev.name === "token") { showTool(null); appendText(bubble, ev.data.text); }
  else if (ev.name === "tool") showTool(ev.data);
  else if (ev.name === "confirm") bubble.asked = ev.data;  // buttons once the answer is done
  else if (ev.name === "done") { showTool(null); bubble.ended = true; finish(bubble, ev.data.reply, ev.data.rendered); }
  else if (ev.name === "error") { showTool(null); bubble.ended = true; bubble.remove(); showError(ev.data.error); }
}

async function streamReply(res, bubble) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      handleEvent(parseEvent(buffer.slice(0, cut)), bubble);
      buffer = buffer.slice(cut + 2);
    }
  }
  bubble.classList.remove("streaming");
  if (!bubble.ended) showError("The connection dropped before the reply was complete.");
}

function requestBody(text, files, choice) {
  // Files go as multipart/form-data (the browser sets its boundary); text alone as JSON.
  if (!files.length) {
    const body = Object.assign({ message: text }, choice);
    if (state.session) body.session_id = state.session;
    return { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  }
  const form = new FormData();
  form.append("message", text);
  if (state.session) form.append("session_id", state.session);
  for (const [name, value] of Object.entries(choice)) form.append(name, value);
  for (const item of files) form.append("files", item.file, item.file.name);
  return { body: form };
}

async function send(text, files) {
  state.busy = true;
  $("send").disabled = true;
  showError("");
  dropRegenerate();
  const mine = addMessage("human", text, null, files);
  const choice = picked();
  try {
    const res = await api("/v1/chat/stream",
                          Object.assign({ method: "POST" }, requestBody(text, files, choice.send)));
    const bubble = addMessage("ai", "");
    bubble.classList.add("streaming");
    await streamReply(res, bubble);
    remember(state.session, choice.all);  // the server took it before the stream began
    if (bubble.asked) placeConfirm(bubble, bubble.asked);  // confirm.js
  } catch (err) {
    mine.remove();
    $("input").value = text;  // keep what was typed, and the files, so it can be sent again
    for (const item of files) state.shown.delete(item.url);
    state.files = files.concat(state.files);
    renderPending();
    showError(err.message);
  } finally {
    state.busy = false;
    $("send").disabled = false;
    placeRegenerate();
    await loadSessions().catch(() => {});
  }
}

function watchDrops() {
  // Files dragged over any part of the page: a hint while dragging, attached when dropped.
  let depth = 0;
  const hint = (on) => { $("drop-hint").hidden = !on; };
  const carriesFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  document.addEventListener("dragenter", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth += 1;
    hint(true);
  });
  document.addEventListener("dragover", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (e) => {
    if (!carriesFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) hint(false);
  });
  document.addEventListener("drop", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth = 0;
    hint(false);
    addFiles(Array.from(e.dataTransfer.files));
    $("input").focus();
  });
}

function start() {
  $("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    $("token").value = "";
    if (state.token) sessionStorage.setItem("sb.token", state.token); else sessionStorage.removeItem("sb.token");
    state.menu = false;  // another user may be offered other choices
    openSession(state.session).catch((err) => showError(err.message));
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("input").value;
    if ((!text.trim() && !state.files.length) || state.busy) return;
    const files = state.files;
    state.files = [];
    renderPending();
    $("input").value = "";
    send(text, files);
  });
  $("attach").addEventListener("click", () => $("files").click());
  $("files").addEventListener("change", () => {
    addFiles(Array.from($("files").files));
    $("files").value = "";  // choosing the same file again fires change again
    $("input").focus();
  });
  $("input").addEventListener("paste", (e) => {
    const data = e.clipboardData;
    const files = data ? Array.from(data.files) : [];
    if (!files.length) return;
    addFiles(files);
    if (!data.types.includes("text/plain")) e.preventDefault();  // nothing else to paste
  });
  watchDrops();
  $("input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("new").addEventListener("click", () => {
    setSession(null);
    clearConversation();
    showError("");
    loadSessions().catch(() => {});
  });
  if (state.session) openSession(state.session);
  else loadSessions().catch((err) => { if (err.status !== 401) showError(err.message); });
}

start();
