import { createHash } from 'node:crypto';

/**
 * The one page of the web UI, served at GET /: upload photos (drag and drop or the file picker,
 * several at once), follow each through the five stages, and see recent photos as original,
 * resized, grayscale and tagged side by side with what was detected. Plain HTML, CSS and JS, no
 * framework, no build step; all URLs are relative so the page works under an API Gateway stage
 * path too. The script and style are inline and allowed by their hashes in the CSP, nothing else.
 */

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1b; --muted: #5d5d5d; --bg: #fff; --panel: #f4f5f7; --line: #d5d8dd;
  --accent: #0b57d0; --ok: #146c2e; --warn: #8a5300; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #eaeaea; --muted: #b0b0b0; --bg: #151618; --panel: #202226; --line: #3a3d43;
  --accent: #8ab4f8; --ok: #7ad19a; --warn: #f0c060; --bad: #f28b82; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1120px; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
p.lead { margin: 0 0 1.25rem; color: var(--muted); }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.drop { display: block; border: 2px dashed var(--line); border-radius: 12px; padding: 1.75rem 1rem; text-align: center; background: var(--panel); cursor: pointer; }
.drop strong { color: var(--accent); }
.drop.over { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 10%, var(--panel)); }
#file:focus-visible + .drop { outline: 3px solid var(--accent); outline-offset: 3px; }
.hint { display: block; font-size: .9rem; color: var(--muted); margin-top: .35rem; }
ol, ul { padding: 0; margin: 0; list-style: none; }
.jobs { display: grid; gap: .6rem; }
.job { border: 1px solid var(--line); border-radius: 10px; padding: .6rem .8rem; }
.job-head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; justify-content: space-between; }
.job-name { font-weight: 600; overflow-wrap: anywhere; }
.job progress { width: 100%; height: .5rem; margin: .4rem 0; accent-color: var(--accent); }
.steps { display: flex; flex-wrap: wrap; gap: .35rem; }
.step { font-size: .85rem; padding: .1rem .5rem; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.step::before { content: "○ "; }
.step.running, .step.retrying { color: var(--warn); border-color: var(--warn); }
.step.running::before, .step.retrying::before { content: "◔ "; }
.step.done { color: var(--ok); border-color: var(--ok); }
.step.done::before { content: "✓ "; }
.step.failed { color: var(--bad); border-color: var(--bad); }
.step.failed::before { content: "✕ "; }
.state-done { color: var(--ok); font-weight: 600; }
.state-failed { color: var(--bad); font-weight: 600; }
.state-retrying { color: var(--warn); font-weight: 600; }
.error { color: var(--bad); margin: .35rem 0 0; overflow-wrap: anywhere; }
.found { margin: .35rem 0 0; }
.empty { color: var(--muted); }
.toolbar { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; }
button { font: inherit; padding: .3rem .8rem; border-radius: 8px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.gallery { display: grid; gap: 1.25rem; }
.photo { border: 1px solid var(--line); border-radius: 12px; padding: .75rem; }
.photo-head { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; margin-bottom: .5rem; }
.photo-head h3 { font-size: 1rem; margin: 0; }
.photo-head .meta { color: var(--muted); font-size: .9rem; }
.photo-head .meta.state-done { color: var(--ok); }
.photo-head .meta.state-failed { color: var(--bad); }
.photo-head .meta.state-retrying { color: var(--warn); }
.frames { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .5rem; }
@media (max-width: 720px) { .frames { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
figure { margin: 0; }
figure a { display: block; border-radius: 6px; }
figure a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
figure img, figure .pending { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: contain; background: var(--panel); border-radius: 6px; }
figure .pending { display: grid; place-items: center; color: var(--muted); font-size: .9rem; }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .25rem; }
.detections { display: flex; flex-wrap: wrap; gap: .35rem; margin-top: .6rem; }
.detections li { font-size: .9rem; padding: .1rem .55rem; border-radius: 999px; background: var(--panel); border: 1px solid var(--line); }
`;

const SCRIPT = `
"use strict";
(function () {
  var STAGES = ["upload", "resize", "grayscale", "detect", "tag"];
  var KINDS = [["original", "Original"], ["resized", "Resized (25 %)"], ["grayscale", "Grayscale"], ["tagged", "Tagged"]];
  var KIND_STAGE = { original: "upload", resized: "resize", grayscale: "grayscale", tagged: "tag" };
  var STATE_TEXT = { processing: "in progress", retrying: "retrying", done: "tagged", failed: "failed" };
  var POLL_MS = 700, MAX_PARALLEL_UPLOADS = 3;

  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var jobsList = document.getElementById("jobs");
  var jobsEmpty = document.getElementById("jobs-empty");
  var live = document.getElementById("live");
  var gallery = document.getElementById("gallery");
  var galleryEmpty = document.getElementById("gallery-empty");
  var refreshButton = document.getElementById("refresh");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) {
      if (k === "text") node.textContent = attrs[k]; else if (k === "cls") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function announce(text) { live.textContent = ""; setTimeout(function () { live.textContent = text; }, 50); }
  function labels(status) {
    return (status.detections || []).map(function (d) { return d.label; });
  }
  // "horse ×2, cow": each label once, in the detector's order, with how many were found.
  function detectionText(status) {
    var counts = {}, order = [];
    labels(status).forEach(function (l) { if (!counts[l]) { counts[l] = 0; order.push(l); } counts[l] += 1; });
    return order.length ? order.map(function (l) { return counts[l] > 1 ? l + " ×" + counts[l] : l; }).join(", ") : "nothing";
  }
  function doneCount(status) {
    return STAGES.filter(function (s) { return status.stages[s].state === "done"; }).length;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function reasonOf(res, json) {
    return (json && json.error && json.error.message) || ("HTTP " + res.status);
  }

  function stepList(status, name) {
    return el("ol", { cls: "steps", "aria-label": "Stages of " + name }, STAGES.map(function (s) {
      var st = status ? status.stages[s] : { state: s === "upload" ? "running" : "pending" };
      var text = s + ": " + st.state + (st.state === "done" && st.duration_ms !== undefined ? " (" + st.duration_ms + " ms)" : "");
      return el("li", { cls: "step " + st.state, text: text });
    }));
  }

  // ---- uploads and their progress ----
  var queue = [], running = 0, namesById = {};
  function addFiles(files) {
    var images = Array.prototype.filter.call(files, function (f) { return !f.type || f.type.indexOf("image/") === 0; });
    var skipped = files.length - images.length;
    if (skipped) announce(skipped + " file(s) skipped: not images.");
    images.forEach(function (file) { queue.push(newJob(file)); });
    pump();
  }
  function newJob(file) {
    var item = el("li", { cls: "job" });
    jobsList.prepend(item);
    jobsEmpty.hidden = true;
    var job = { file: file, item: item, status: null, state: "uploading", error: null };
    renderJob(job);
    return job;
  }
  function renderJob(job) {
    var name = job.file.name || "photo";
    var stateText = job.error ? "failed" : job.status ? STATE_TEXT[job.status.state] : job.state;
    var stateCls = job.error ? "failed" : job.status ? job.status.state : "processing";
    var progress = el("progress", { max: "5", value: String(job.status ? doneCount(job.status) : 0), "aria-label": "Progress of " + name,
      "aria-valuetext": (job.status ? doneCount(job.status) : 0) + " of 5 stages done" });
    var children = [
      el("div", { cls: "job-head" }, [el("span", { cls: "job-name", text: name }), el("span", { cls: "state-" + stateCls, text: stateText })]),
      progress,
      stepList(job.status, name),
    ];
    var reason = job.error || (job.status && job.status.error ? job.status.error.stage + ": " + job.status.error.reason : null);
    if (reason) children.push(el("p", { cls: "error", text: "Error — " + reason }));
    if (job.status && job.status.stages.detect.state === "done") children.push(el("p", { cls: "found", text: "Found: " + detectionText(job.status) }));
    job.item.replaceChildren.apply(job.item, children);
  }
  function pump() {
    while (running < MAX_PARALLEL_UPLOADS && queue.length) {
      running += 1;
      runJob(queue.shift()).finally(function () { running -= 1; pump(); });
    }
  }
  async function runJob(job) {
    var name = job.file.name || "photo";
    try {
      var body = new FormData();
      body.append("image", job.file, name);
      var res = await fetch("upload", { method: "POST", body: body });
      var json = await res.json().catch(function () { return null; });
      if (res.status !== 202 || !json || !json.image_id) throw new Error(reasonOf(res, json));
      job.id = json.image_id;
      namesById[job.id] = name;
      job.item.setAttribute("data-image-id", job.id);
      job.state = "uploaded";
      announce(name + " uploaded; processing.");
      renderJob(job);
      await follow(job);
    } catch (error) {
      job.error = String(error && error.message ? error.message : error);
      renderJob(job);
      announce(name + " failed: " + job.error);
    }
  }
  async function follow(job) {
    var name = job.file.name || "photo", delay = POLL_MS, last = "";
    for (;;) {
      await sleep(delay);
      var res, json;
      try {
        res = await fetch("images/" + encodeURIComponent(job.id), { headers: { accept: "application/json" } });
        json = await res.json();
      } catch (e) { delay = Math.min(delay * 2, 5000); continue; }
      if (!res.ok) { delay = Math.min(delay * 2, 5000); continue; }
      delay = POLL_MS;
      var sig = JSON.stringify(json.stages) + json.state;
      if (sig !== last) { last = sig; job.status = json; renderJob(job); }
      if (json.state === "done") {
        announce(name + " is tagged. Found: " + detectionText(json) + ".");
        refreshGallery();
        return;
      }
      if (json.state === "failed") {
        announce(name + " failed at " + json.error.stage + ": " + json.error.reason);
        refreshGallery();
        return;
      }
    }
  }

  // ---- recent photos ----
  var shown = {};
  function frame(status, kind, caption) {
    var ready = status.images[kind];
    var stage = KIND_STAGE[kind];
    var alt = kind === "tagged" ? "Tagged copy with boxes around: " + detectionText(status)
      : caption + " copy of the photo uploaded " + new Date(status.uploaded_at).toLocaleString();
    var url = "images/" + encodeURIComponent(status.image_id) + "/" + kind;
    // Each image links to itself at full size (the tagged labels are small in a thumbnail).
    var picture = ready
      ? el("a", { href: url, target: "_blank", rel: "noopener" }, [el("img", { src: url, alt: alt, loading: "lazy", decoding: "async" })])
      : el("div", { cls: "pending", text: stage + ": " + status.stages[stage].state });
    return el("figure", null, [picture, el("figcaption", { text: caption })]);
  }
  function renderPhoto(status) {
    var when = new Date(status.uploaded_at);
    var heading = (namesById[status.image_id] || "Photo") + " · uploaded " + when.toLocaleString();
    var found = labels(status);
    var children = [
      el("div", { cls: "photo-head" }, [
        el("h3", null, [el("time", { datetime: status.uploaded_at, text: heading })]),
        el("span", { cls: "meta state-" + status.state, text: STATE_TEXT[status.state] }),
        el("span", { cls: "meta", text: "id " + status.image_id }),
      ]),
      el("div", { cls: "frames" }, KINDS.map(function (k) { return frame(status, k[0], k[1]); })),
    ];
    if (status.error) children.push(el("p", { cls: "error", text: "Failed at " + status.error.stage + ": " + status.error.reason }));
    if (status.stages.detect.state === "done") {
      children.push(found.length
        ? el("ul", { cls: "detections", "aria-label": "Detections" }, (status.detections || []).map(function (d) {
            return el("li", { text: d.label + " " + Math.round(d.score * 100) + " %" });
          }))
        : el("p", { cls: "found", text: "Nothing detected." }));
    } else if (status.state !== "failed") {
      children.push(el("p", { cls: "found empty", text: "Detections: waiting for the detect stage." }));
    }
    return el("article", { cls: "photo", "data-image-id": status.image_id, "data-state": status.state, "aria-label": heading }, children);
  }
  var refreshing = null;
  function refreshGallery() {
    if (refreshing) return refreshing;
    refreshing = (async function () {
      try {
        var res = await fetch("images?limit=12", { headers: { accept: "application/json" } });
        if (!res.ok) return;
        var json = await res.json();
        galleryEmpty.hidden = json.images.length > 0;
        var next = {}, nodes = [];
        json.images.forEach(function (status) {
          var sig = JSON.stringify(status);
          var old = shown[status.image_id];
          var node = old && old.sig === sig ? old.node : renderPhoto(status);
          next[status.image_id] = { sig: sig, node: node };
          nodes.push(node);
        });
        shown = next;
        gallery.replaceChildren.apply(gallery, nodes);
      } catch (e) { /* keep what is shown; the next refresh tries again */ }
      finally { refreshing = null; }
    })();
    return refreshing;
  }

  // ---- wiring ----
  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "dragend"].forEach(function (type) {
    drop.addEventListener(type, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
  });
  // A photo dropped beside the zone must not replace the page.
  window.addEventListener("dragover", function (e) { e.preventDefault(); });
  window.addEventListener("drop", function (e) { e.preventDefault(); });
  refreshButton.addEventListener("click", function () { refreshGallery(); });
  refreshGallery();
  setInterval(function () { if (!document.hidden) refreshGallery(); }, 15000);
})();
`;

const BODY = `
<main>
  <h1>Image pipeline</h1>
  <p class="lead">Each photo is stored, resized, turned grayscale, searched for objects and tagged with labelled boxes.</p>

  <section aria-labelledby="upload-h">
    <h2 id="upload-h" class="visually-hidden">Upload</h2>
    <input type="file" id="file" class="visually-hidden" accept="image/*" multiple aria-describedby="drop-hint">
    <label for="file" id="drop" class="drop">
      <strong>Choose photos</strong> or drop them here
      <span class="hint" id="drop-hint">JPEG, PNG, WebP, GIF, TIFF or AVIF, up to 10 MB each; several at once.</span>
    </label>
  </section>

  <section aria-labelledby="jobs-h">
    <h2 id="jobs-h">Progress</h2>
    <p id="jobs-empty" class="empty">Photos you upload here appear with their progress through upload, resize, grayscale, detect and tag.</p>
    <ol id="jobs" class="jobs"></ol>
    <p id="live" class="visually-hidden" aria-live="polite" role="status"></p>
  </section>

  <section aria-labelledby="gallery-h">
    <div class="toolbar">
      <h2 id="gallery-h">Recent photos</h2>
      <button type="button" id="refresh">Refresh</button>
    </div>
    <p id="gallery-empty" class="empty" hidden>No photos yet.</p>
    <div id="gallery" class="gallery"></div>
  </section>
</main>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image pipeline</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

export const galleryPage = {
  html,
  /** Only this page's own script and style run; images may come from presigned bucket URLs. */
  contentSecurityPolicy: [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "img-src 'self' blob: data: https: http:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
} as const;
