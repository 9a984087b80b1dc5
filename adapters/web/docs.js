// Offline API reference: built from /openapi.json with DOM nodes only, no CDN, no innerHTML.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function resolve(spec, schema) {
  // One level of $ref is enough for this API: every body is a named model.
  const ref = schema && schema.$ref;
  if (!ref || !ref.startsWith("#/components/schemas/")) return { name: "", schema: schema || {} };
  const name = ref.split("/").pop();
  return { name, schema: (spec.components.schemas || {})[name] || {} };
}

function schemaBlock(spec, title, schema) {
  const { name, schema: body } = resolve(spec, schema);
  const block = el("div");
  block.appendChild(el("h3", title + (name ? " (" + name + ")" : "")));
  block.appendChild(el("pre", JSON.stringify(body.properties || body, null, 2)));
  return block;
}

function parameters(op) {
  const list = el("ul");
  for (const p of op.parameters || []) {
    list.appendChild(el("li", p.in + " " + p.name + (p.required ? " (required)" : "") +
      (p.description ? ": " + p.description : "")));
  }
  return list;
}

function responses(spec, op) {
  const list = el("ul");
  for (const [status, answer] of Object.entries(op.responses || {})) {
    const json = ((answer.content || {})["application/json"] || {}).schema;
    const name = json ? resolve(spec, json).name : Object.keys(answer.content || {}).join(", ");
    list.appendChild(el("li", status + " " + (answer.description || "") + (name ? ": " + name : "")));
  }
  return list;
}

function operation(spec, path, method, op) {
  const section = el("section", undefined, "op");
  const heading = el("h2");
  heading.append(el("span", method.toUpperCase(), "method"), path);
  section.append(heading, el("p", op.description || op.summary || ""));
  if ((op.parameters || []).length) section.append(el("h3", "Parameters"), parameters(op));
  const body = (((op.requestBody || {}).content || {})["application/json"] || {}).schema;
  if (body) section.appendChild(schemaBlock(spec, "Request body", body));
  section.append(el("h3", "Responses"), responses(spec, op));
  const ok = (((op.responses || {})["200"] || {}).content || {})["application/json"];
  if (ok && ok.schema) section.appendChild(schemaBlock(spec, "200 body", ok.schema));
  return section;
}

async function start() {
  const root = document.getElementById("operations");
  try {
    const spec = await (await fetch("/openapi.json")).json();
    document.getElementById("title").textContent = spec.info.title + " API " + spec.info.version;
    root.replaceChildren();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        if (item[method]) root.appendChild(operation(spec, path, method, item[method]));
      }
    }
  } catch (err) {
    root.replaceChildren(el("p", "Could not load /openapi.json: " + err.message, "error"));
  }
}

start();
