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
    for (const m of data.messages) addMessage(m.role, m.text, m.rendered);
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

function handleEvent(ev, bubble) {
  if (ev.name === "session") setSession(ev.data.session_id);
  else if (ev.name === "token") appendText(bubble, ev.data.text);
  else if (ev.name === "done") { bubble.ended = true; finish(bubble, ev.data.reply, ev.data.rendered); }
  else if (ev.name === "error") { bubble.ended = true; bubble.remove(); showError(ev.data.error); }
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

function requestBody(text, files) {
  // Files go as multipart/form-data (the browser sets its boundary); text alone as JSON.
  if (!files.length) {
    const body = { message: text };
    if (state.session) body.session_id = state.session;
    return { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  }
  const form = new FormData();
  form.append("message", text);
  if (state.session) form.append("session_id", state.session);
  for (const item of files) form.append("files", item.file, item.file.name);
  return { body: form };
}

async function send(text, files) {
  state.busy = true;
  $("send").disabled = true;
  showError("");
  const mine = addMessage("human", text, null, files);
  try {
    const res = await api("/v1/chat/stream", Object.assign({ method: "POST" }, requestBody(text, files)));
    const bubble = addMessage("ai", "");
    bubble.classList.add("streaming");
    await streamReply(res, bubble);
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
