/* The preview shell: module list, the module's page in an iframe with the stand-in SCORM 1.2 API,
   the debug panel, the error overlay, and live reload from the server's events (no polling).

   For tests and the benchmark, window.previewEvents records what the shell did:
   {type: "reload" | "loaded" | "status", at: Date.now(), module, revision}. */
(function () {
  "use strict";
  var doc = document;
  function $(id) { return doc.getElementById(id); }
  function fmt(s, v) { return String(s).replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); }
  function el(tag, attrs, text) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var ui = JSON.parse($("pv-ui").textContent);
  var status = JSON.parse($("pv-initial").textContent);
  var frame = $("pv-frame");
  var events = window.previewEvents = [];
  var LEARNER = { id: "preview", name: "Vorschau, Designer" };
  var current = null;         // the module shown (id), null before the first good version
  var shownRevision = null;   // the revision of the page in the frame
  var navigating = false;     // a module switch is under way (the old page must finish first)
  var keptScroll = null;      // the frame's scroll position across a live reload
  var dismissed = null;       // the error set the designer closed the overlay for
  var calls = [];
  var focusBefore = null;     // where the focus was when the overlay took it

  function record(type, extra) {
    var item = { type: type, at: Date.now(), module: current, revision: shownRevision };
    Object.keys(extra || {}).forEach(function (k) { item[k] = extra[k]; });
    events.push(item);
    window.dispatchEvent(new CustomEvent("preview:" + type, { detail: item }));
  }
  function moduleInfo(id) {
    for (var i = 0; i < status.modules.length; i++) if (status.modules[i].id === id) return status.modules[i];
    return null;
  }
  function announce(text) { var live = $("pv-live"); live.textContent = ""; setTimeout(function () { live.textContent = text; }, 50); }

  // --- attempts: kept by the server (and in sessionStorage, so a reload never races the last write)

  var revs = {};
  function storageKey(id) { return "course-preview:" + (status.course ? status.course.id : "") + "/" + id; }
  function attemptUrl(id) { return "/api/attempts/" + encodeURIComponent(id); }
  function persist(id, cmi, final) {
    revs[id] = (revs[id] || 0) + 1;
    var body = JSON.stringify({ rev: revs[id], cmi: cmi });
    try { sessionStorage.setItem(storageKey(id), body); } catch (e) { /* storage off: the server has it */ }
    // LMSFinish comes while the page goes away (a reload, another module): a beacon outlives the page.
    if (final && navigator.sendBeacon && navigator.sendBeacon(attemptUrl(id), new Blob([body], { type: "application/json" }))) return;
    fetch(attemptUrl(id), { method: "PUT", keepalive: true, headers: { "Content-Type": "application/json" }, body: body })
      .catch(function () { /* the preview is gone; sessionStorage still has it */ });
  }
  function fetchAttempt(id) {
    var local = null;
    try { local = JSON.parse(sessionStorage.getItem(storageKey(id))); } catch (e) { local = null; }
    return fetch(attemptUrl(id), { headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : { rev: 0, cmi: {} }; }, function () { return { rev: 0, cmi: {} }; })
      .then(function (server) { return local && local.rev > server.rev ? local : server; });
  }

  var lms = window.Scorm12Api({
    onStore: function (cmi, final) { if (current) persist(current, cmi, final); },
    onCall: function (entry) { calls.push(entry); if (calls.length > 500) calls.shift(); },
    onChange: function () { scheduleDebug(); }
  });
  window.API = lms.api;  // where the player looks for an LMS: up the parent windows

  // --- the module in the frame

  function pageUrl(id) { return "/sco/" + encodeURIComponent(id) + "/index.html"; }
  function blank() {
    return new Promise(function (resolve) {
      if (!frame.getAttribute("src") || frame.getAttribute("src") === "about:blank") { resolve(); return; }
      frame.addEventListener("load", function done() { frame.removeEventListener("load", done); resolve(); });
      frame.contentWindow.location.replace("about:blank");  // the page's pagehide finishes its session first
    });
  }
  function open(id) {
    if (navigating) return;
    navigating = true;
    blank().then(function () { return fetchAttempt(id); }).then(function (attempt) {
      var info = moduleInfo(id);
      current = id;
      revs[id] = attempt.rev || 0;
      calls = [];
      lms.launch(attempt.cmi, { learner: LEARNER, masteryScore: info ? info.masteryScore : "" });
      shownRevision = info ? info.revision : null;
      $("pv-notice").hidden = true;
      frame.setAttribute("src", pageUrl(id));
      navigating = false;
      renderModules();
    });
  }
  function reloadFrame() {
    var win = frame.contentWindow;
    keptScroll = win ? win.scrollY : null;
    shownRevision = moduleInfo(current).revision;
    record("reload");
    win.location.replace(pageUrl(current));  // pagehide → LMSFinish (exit suspend) → the page resumes where it was
  }
  frame.addEventListener("load", function () {
    if (!current || frame.getAttribute("src") === "about:blank") return;
    if (keptScroll !== null) { try { frame.contentWindow.scrollTo(0, keptScroll); } catch (e) { /* other origin */ } keptScroll = null; }
    record("loaded");
  });
  function wanted() {
    var m = /^#\/?(.+)$/.exec(location.hash), id = m ? decodeURIComponent(m[1]) : null;
    if (id && moduleInfo(id)) return id;
    return status.modules.length ? status.modules[0].id : null;
  }
  window.addEventListener("hashchange", function () { var id = wanted(); if (id && id !== current) open(id); });

  // --- module list

  function renderModules() {
    var list = $("pv-modules");
    list.textContent = "";
    status.modules.forEach(function (m) {
      var a = el("a", { href: "#/" + encodeURIComponent(m.id), "data-module": m.id }, m.title);
      if (m.id === current) a.setAttribute("aria-current", "page");
      var li = el("li");
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  // --- errors: overlay over the last good page, a button to bring it back

  function errorKey(s) { return JSON.stringify([s.internalError, s.diagnostics.filter(function (d) { return d.severity === "error"; })]); }
  function renderOverlay() {
    var box = $("pv-overlay"), list = $("pv-errors"), key = errorKey(status), wasHidden = box.hidden;
    var errors = status.diagnostics.filter(function (d) { return d.severity === "error"; });
    $("pv-show-errors").hidden = status.ok;
    $("pv-show-errors").textContent = fmt(ui.show_errors, { n: status.errors + (status.internalError ? 1 : 0) });
    if (status.ok) {
      if (!box.hidden) { box.hidden = true; announce(ui.errors_fixed); }
      dismissed = null;
      return;
    }
    list.textContent = "";
    if (status.internalError) {
      var item = el("li", { "class": "pv-error" });
      item.appendChild(el("p", { "class": "pv-message" }, ui.internal + ": " + status.internalError));
      list.appendChild(item);
    }
    errors.forEach(function (d) {
      var li = el("li", { "class": "pv-error" });
      li.appendChild(el("p", { "class": "pv-where" }, d.file + ":" + d.line + ":" + d.column + " · " + d.code));
      li.appendChild(el("p", { "class": "pv-message" }, d.message));
      if (d.excerpt) li.appendChild(el("pre", { "class": "pv-excerpt" }, d.line + " | " + d.excerpt));
      if (d.hint) li.appendChild(el("p", { "class": "pv-hint" }, ui.hint + ": " + d.hint));
      list.appendChild(li);
    });
    if (status.errors > errors.length) list.appendChild(el("li", {}, fmt(ui.more, { n: status.errors - errors.length })));
    $("pv-overlay-intro").textContent = current ? ui.errors_intro : ui.no_good_version;
    if (dismissed !== key) {
      if (box.hidden) $("pv-alert").textContent = fmt(ui.errors_title_n, { n: status.errors + (status.internalError ? 1 : 0) });
      box.hidden = false;
      if (wasHidden) { focusBefore = doc.activeElement; $("pv-overlay-close").focus(); }
    }
  }
  function closeOverlay() {
    $("pv-overlay").hidden = true;
    dismissed = errorKey(status);
    if (focusBefore && focusBefore.focus) focusBefore.focus(); else $("pv-show-errors").focus();
  }
  $("pv-overlay-close").addEventListener("click", closeOverlay);
  doc.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !$("pv-overlay").hidden) closeOverlay(); });
  $("pv-show-errors").addEventListener("click", function () {
    focusBefore = doc.activeElement;
    dismissed = null;
    $("pv-overlay").hidden = false;
    $("pv-overlay-close").focus();
  });

  // --- debug panel (English: SCORM's own terms, for designers)

  var debugPending = false;
  function scheduleDebug() { if (!debugPending) { debugPending = true; requestAnimationFrame(renderDebug); } }
  function renderDebug() {
    debugPending = false;
    var v = lms.view();
    $("pv-entry").textContent = v.entry || "(empty)";
    $("pv-lesson-status").textContent = v.status;
    $("pv-raw").textContent = v.raw || "–";
    $("pv-location").textContent = v.location || "–";
    $("pv-exit").textContent = v.exit || "(empty)";
    $("pv-total").textContent = v.totalTime;
    $("pv-suspend-length").textContent = v.suspend.length + " / 4096";
    $("pv-suspend-length").classList.toggle("pv-over", v.suspend.length > 4096);
    $("pv-suspend").textContent = v.suspend;
    $("pv-session").textContent = v.running ? "running" : "not running";
    var body = $("pv-interactions");
    body.textContent = "";
    v.interactions.forEach(function (it, i) {
      var tr = el("tr");
      [String(i), it.id, it.type, it.response, it.result, it.weighting, it.latency].forEach(function (text) { tr.appendChild(el("td", {}, text)); });
      body.appendChild(tr);
    });
    $("pv-interactions-count").textContent = String(v.interactions.length);
    var log = $("pv-log");
    log.textContent = "";
    calls.slice(-200).reverse().forEach(function (c) {
      var args = c.args.map(function (a) { a = String(a); return a.length > 60 ? a.slice(0, 60) + "…" : a; });
      var li = el("li", { "class": c.error === "0" ? "" : "pv-call-error" },
                  c.fn + "(" + args.join(", ") + ") → " + JSON.stringify(c.result.length > 60 ? c.result.slice(0, 60) + "…" : c.result) +
                  " · " + c.error + (c.error === "0" ? "" : " " + lms.errorString(c.error)));
      log.appendChild(li);
    });
  }
  $("pv-reset").addEventListener("click", function () {
    if (!current) return;
    var id = current;
    blank().then(function () {
      current = null;  // the finishing page's last write belongs to the attempt being reset
      try { sessionStorage.removeItem(storageKey(id)); } catch (e) { /* storage off */ }
      // the revision of the page's last write, which may still be on its way: the server then ignores it
      return fetch(attemptUrl(id) + "?rev=" + (revs[id] || 0), { method: "DELETE" });
    }).then(function () {
      open(id);
      announce(ui.reset_done);
    });
  });

  // --- server events

  function apply(next) {
    status = next;
    if (next.course) {
      $("pv-title").textContent = next.course.title;
      doc.title = ui.label + " – " + next.course.title;
    }
    record("status", { generation: next.generation, ok: next.ok });
    renderOverlay();
    if (navigating) return;
    if (!current) {
      var first = wanted();
      if (first) open(first);
      return;
    }
    renderModules();
    var info = moduleInfo(current);
    if (!info) {
      $("pv-notice").textContent = fmt(ui.missing_module, { id: current });
      $("pv-notice").hidden = false;
      return;
    }
    $("pv-notice").hidden = true;
    if (next.ok && info.revision !== shownRevision) reloadFrame();
  }
  var source = new EventSource("/events");
  source.addEventListener("status", function (ev) { $("pv-connection").hidden = true; apply(JSON.parse(ev.data)); });
  source.addEventListener("error", function () { $("pv-connection").hidden = false; });
  window.addEventListener("pagehide", function () { source.close(); });

  renderModules();
  renderOverlay();
  renderDebug();
  var start = wanted();
  if (start) open(start);
})();
