// A small Markdown subset for untrusted model output, built as DOM nodes: never innerHTML.
// Blocks: paragraphs, fenced code, headings, lists, quotes. Inline: code, bold, italic, links.
"use strict";

const SAFE_LINK = new Set(["http:", "https:", "mailto:"]);
const INLINE = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\*([^*\s][^*\n]*)\*|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
const BLOCK_START = /^(```|#{1,6}\s|[-*+]\s|\d{1,9}[.)]\s|>\s?)/;

function node(tag, text) {
  const n = document.createElement(tag);
  if (text !== undefined) n.textContent = text;
  return n;
}

function link(label, href, source) {
  // Only absolute web and mail links: `javascript:`, `data:` and relative ones stay text.
  let url;
  try { url = new URL(href); } catch (_) { return document.createTextNode(source); }
  if (!SAFE_LINK.has(url.protocol)) return document.createTextNode(source);
  const a = node("a", label);
  a.href = url.href;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  return a;
}

function inline(parent, text) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    parent.append(text.slice(last, m.index));
    if (m[1] !== undefined) parent.append(node("code", m[1]));
    else if (m[2] !== undefined) parent.append(node("strong", m[2]));
    else if (m[3] !== undefined) parent.append(node("em", m[3]));
    else parent.append(link(m[4], m[5], m[0]));
    last = m.index + m[0].length;
  }
  parent.append(text.slice(last));
  return parent;
}

function fence(lines, i) {
  // An unclosed fence (a reply still streaming) runs to the end.
  const code = [];
  let j = i + 1;
  while (j < lines.length && !lines[j].startsWith("```")) code.push(lines[j++]);
  const pre = node("pre");
  const lang = lines[i].slice(3).trim();
  const c = node("code", code.join("\n"));
  if (/^[\w+-]{1,20}$/.test(lang)) c.dataset.lang = lang;
  pre.appendChild(c);
  return [pre, j + 1];
}

function list(lines, i, ordered) {
  const item = ordered ? /^\d{1,9}[.)]\s+/ : /^[-*+]\s+/;
  const ul = node(ordered ? "ol" : "ul");
  if (ordered) ul.start = parseInt(lines[i], 10) || 1;
  let j = i;
  while (j < lines.length && item.test(lines[j])) {
    ul.appendChild(inline(node("li"), lines[j].replace(item, "")));
    j++;
  }
  return [ul, j];
}

function quote(lines, i) {
  const inner = [];
  let j = i;
  while (j < lines.length && lines[j].startsWith(">")) inner.push(lines[j++].replace(/^>\s?/, ""));
  const q = node("blockquote");
  q.appendChild(inline(node("p"), inner.join("\n")));
  return [q, j];
}

function paragraph(lines, i) {
  const text = [];
  let j = i;
  while (j < lines.length && lines[j].trim() && (j === i || !BLOCK_START.test(lines[j]))) {
    text.push(lines[j++]);
  }
  return [inline(node("p"), text.join("\n")), j];
}

function block(lines, i) {
  const line = lines[i];
  if (line.startsWith("```")) return fence(lines, i);
  const heading = /^(#{1,6})\s+(.*)$/.exec(line);
  if (heading) return [inline(node("h" + Math.min(heading[1].length + 2, 6)), heading[2]), i + 1];
  if (/^[-*+]\s/.test(line)) return list(lines, i, false);
  if (/^\d{1,9}[.)]\s/.test(line)) return list(lines, i, true);
  if (line.startsWith(">")) return quote(lines, i);
  return paragraph(lines, i);
}

function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    if (!lines[i].trim()) { i++; continue; }
    const [n, next] = block(lines, i);
    out.appendChild(n);
    i = next;
  }
  return out;
}

window.renderMarkdown = renderMarkdown;
