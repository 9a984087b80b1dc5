// Switchboard web chat: plain DOM, replies built from the server's Markdown tree (markdown.js),
// SSE over fetch.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("sb.token") || "",  // per tab: never shared with other tabs
  session: localStorage.getItem("sb.session") || null,
  busy: false,
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

function addMessage(role, text, tree) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  setText(div, text, tree);
  $("messages").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
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
  $("messages").replaceChildren();
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

async function send(text) {
  state.busy = true;
  $("send").disabled = true;
  showError("");
  const mine = addMessage("human", text);
  const body = { message: text };
  if (state.session) body.session_id = state.session;
  try {
    const res = await api("/v1/chat/stream", {
      method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
    });
    const bubble = addMessage("ai", "");
    bubble.classList.add("streaming");
    await streamReply(res, bubble);
  } catch (err) {
    mine.remove();
    $("input").value = text;  // keep what was typed so it can be sent again
    showError(err.message);
  } finally {
    state.busy = false;
    $("send").disabled = false;
    await loadSessions().catch(() => {});
  }
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
    if (!text.trim() || state.busy) return;
    $("input").value = "";
    send(text);
  });
  $("input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("new").addEventListener("click", () => {
    setSession(null);
    $("messages").replaceChildren();
    showError("");
    loadSessions().catch(() => {});
  });
  if (state.session) openSession(state.session);
  else loadSessions().catch((err) => { if (err.status !== 401) showError(err.message); });
}

start();
