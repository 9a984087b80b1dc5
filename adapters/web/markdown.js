// Model output built as DOM nodes, never innerHTML. A finished answer comes as the server's
// tree (adapters/http/render_web.py: the same parse as every platform) and renderTree builds
// it; while a reply streams, renderMarkdown shows a small subset of the growing text.
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

const TAGS = { b: "strong", i: "em", s: "del", u: "u" };

function treeInline(parent, nodes) {
  for (const n of nodes) {
    if (typeof n === "string") parent.append(n);
    else if (n.t === "code") parent.append(node("code", n.text));
    else if (n.t === "br") parent.append(node("br"));
    else if (n.t === "a") parent.append(treeLink(n));
    else if (TAGS[n.t]) parent.append(treeInline(node(TAGS[n.t]), n.c));
  }
  return parent;
}

function treeLink(n) {
  // The server only sends web and mail links; checked again here, else the label alone.
  const a = link("", n.href, "");
  return treeInline(a.nodeType === Node.ELEMENT_NODE ? a : node("span"), n.c);
}

function treeList(b) {
  const l = node(b.start === null ? "ul" : "ol");
  if (b.start !== null) l.start = b.start;
  for (const item of b.items) {
    const li = node("li");
    // A tight list shows its paragraphs as bare lines, as Markdown renders it.
    for (const c of item) li.append(b.tight && c.t === "p" ? treeInline(node("span"), c.c) : treeBlock(c));
    l.appendChild(li);
  }
  return l;
}

function treeRow(cells, tag, align) {
  const tr = node("tr");
  cells.forEach((cell, i) => {
    const td = treeInline(node(tag), cell);
    td.style.textAlign = align[i] || "left";
    tr.appendChild(td);
  });
  return tr;
}

function treeTable(b) {
  const table = node("table");
  table.appendChild(node("thead")).appendChild(treeRow(b.head, "th", b.align));
  const body = table.appendChild(node("tbody"));
  for (const row of b.rows) body.appendChild(treeRow(row, "td", b.align));
  return table;
}

function treeBlock(b) {
  if (b.t === "p") return treeInline(node("p"), b.c);
  if (b.t === "h") return treeInline(node("h" + Math.min(b.level + 2, 6)), b.c);
  if (b.t === "pre") {
    const c = node("code", b.text);
    if (b.lang) c.dataset.lang = b.lang;
    return node("pre").appendChild(c).parentNode;
  }
  if (b.t === "quote") return treeBlocks(node("blockquote"), b.c);
  if (b.t === "list") return treeList(b);
  if (b.t === "table") return treeTable(b);
  return node("hr");
}

function treeBlocks(parent, blocks) {
  for (const b of blocks) parent.appendChild(treeBlock(b));
  return parent;
}

function renderTree(blocks) {
  return treeBlocks(document.createDocumentFragment(), blocks);
}

window.renderMarkdown = renderMarkdown;
window.renderTree = renderTree;
