// Switchboard web chat: a write tool waiting for the user's word. Approve / Deny under the
// answer that asks; the first press answers it (POST .../confirm/stream), a second does nothing.
"use strict";

function placeConfirm(bubble, asked) {
  const bar = document.createElement("div");
  bar.className = "confirm";
  const text = document.createElement("span");
  text.textContent = "Run " + asked.summary + "?";  // the model's words: never markup
  bar.appendChild(text);
  for (const [label, approve] of [["Approve", true], ["Deny", false]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", () => answerConfirm(bar, asked, approve));
    bar.appendChild(button);
  }
  bubble.after(bar);
  bar.scrollIntoView({ block: "end" });
}

async function answerConfirm(bar, asked, approve) {
  if (bar.answered || state.busy) return;
  bar.answered = true;
  for (const button of bar.querySelectorAll("button")) button.disabled = true;
  state.busy = true;
  $("send").disabled = true;
  showError("");
  const path = "/v1/sessions/" + encodeURIComponent(state.session) + "/confirm/stream";
  try {
    const res = await api(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ confirmation: asked.id, approve }),
    });
    bar.remove();
    // As the server stores it (core/confirm.py `said`), so a reload shows the same.
    addMessage("human", (approve ? "Approved: run " : "Denied: do not run ") + asked.summary + ".");
    const bubble = addMessage("ai", "");
    bubble.classList.add("streaming");
    await streamReply(res, bubble);
    if (bubble.asked) placeConfirm(bubble, bubble.asked);  // it may ask again
  } catch (err) {
    bar.remove();  // expired or answered already: the buttons would only fail again
    showError(err.message);
  } finally {
    state.busy = false;
    $("send").disabled = false;
    placeRegenerate();
  }
}
