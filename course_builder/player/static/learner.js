/* Learner runtime: pages, progress, quiz, and reporting to an LMS through one of four adapters
   (none | scorm12 | scorm2004 | http, see docs/runtime.md). No dependencies; without JavaScript
   every page stays visible. */
(function () {
  "use strict";
  // grading, as the model defines it (essays are not auto-graded): the rules of course_builder/scoring.py,
  // which grades for the LTI tool; tests/fixtures/scoring_cases.json holds both to the same results
  function round2(x) { return Math.round(x * 100) / 100; }
  function num(s) { var t = String(s).trim().replace(/\s/g, "").replace(",", "."); return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? parseFloat(t) : null; }
  function isChoice(q) { return q.type === "single" || q.type === "truefalse"; }
  function textMatches(pattern, text, caseSensitive) {
    var re = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
    return new RegExp("^" + re + "$", caseSensitive ? "" : "i").test(text.trim());
  }
  function grade(q, v) {
    var g = { fraction: 0, key: null, parts: [] }, x, hit = 0;
    if (q.type === "essay") return null;
    if (isChoice(q)) {
      if (v !== null && q.answers[v]) g.fraction = q.answers[v].weight / 100;
    } else if (q.type === "multiple") {
      q.answers.forEach(function (a, i) { if (v && v[i]) g.fraction += a.weight / 100; });
    } else if (q.type === "short" || q.type === "numerical") {
      x = q.type === "numerical" ? num(v || "") : null;
      q.answers.some(function (a) {
        var ok = q.type === "short" ? (v || "").trim() !== "" && textMatches(a.text, v, q.caseSensitive)
                                    : x !== null && Math.abs(x - a.value) <= a.tolerance + 1e-9;
        if (ok) { g.key = a.key; g.fraction = a.weight / 100; }
        return ok;
      });
    } else {
      (q.pairs || q.order).forEach(function (p, i) { var ok = !!v && v[i] === (q.pairs ? p.right : p); g.parts.push(ok); hit += ok; });
      g.fraction = hit / g.parts.length;
    }
    g.fraction = Math.max(0, Math.min(1, g.fraction));
    g.result = g.fraction > 0.9999 ? "correct" : g.fraction > 0 ? "partly" : "incorrect";
    return g;
  }
  // What the learner is shown: right/wrong per chosen option, pair or item, with its feedback.
  function review(q, v, g) {
    var r = { result: g ? g.result : null, marks: {}, fb: {}, specific: g && q.fbq[g.result] || null, general: q.fbq.general || null };
    function mark(key, ok) { r.marks[key] = ok; if (q.fb[key]) r.fb[key] = q.fb[key]; }
    if (!g) return r;
    if (g.key) mark(g.key, g.result === "correct");
    else if (q.pairs || q.items) (q.pairs || q.items).forEach(function (p, i) { mark(p.key || p, g.parts[i]); });
    else if (q.type !== "short" && q.type !== "numerical") {
      q.answers.forEach(function (a, i) { if (q.type === "multiple" ? v && v[i] : v === i) mark(a.key, a.correct); });
    }
    return r;
  }
  function hash(text) {
    for (var h = 2166136261, i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    return h;
  }
  // The key as the package carries it (player.seal): casual reading stopped, nothing more (docs/runtime.md).
  function unseal(salt, q) {
    var h = hash(salt + "/" + q.id) || 1, bin = atob(q.seal), bytes = new Uint8Array(bin.length), i;
    for (i = 0; i < bin.length; i++) {
      h ^= h << 13; h >>>= 0; h ^= h >>> 17; h ^= h << 5; h >>>= 0;
      bytes[i] = bin.charCodeAt(i) ^ (h & 255);
    }
    return JSON.parse(new TextDecoder().decode(bytes));
  }
  // The key's lists of options and pairs go item by item into the page data's (scoring.merged).
  function merge(q, key) {
    for (var k in key) q[k] = Array.isArray(q[k]) ? q[k].map(function (a, i) { return Object.assign(a, key[k][i]); }) : key[k];
  }
  if (typeof module == "object") {  // node: the graders' shared tests
    module.exports = { grade: grade, review: review, unseal: unseal };
    return;
  }

  var doc = document, win = window;
  var data = JSON.parse(doc.getElementById("player-data").textContent);
  var ui = JSON.parse(doc.getElementById("player-strings").textContent);
  var quiz = data.quiz, questions = quiz ? quiz.questions : [];
  var pages = [].slice.call(doc.querySelectorAll("section.page"));
  var FORMAT = "1";
  function per(v, list) { return (list || questions).map(function () { return v; }); }
  var state = { page: 0, visited: per(false, pages), attempts: 0, submitted: false,
                best: null, last: null, answers: per(null), checked: per(false), drawn: per(true) };
  var attemptStart = new Date(), changedAt = {}, sessionStart = new Date();
  var lms, ended = false, reviews = null, checks = {}, busy = false, nextDraw;
  if (quiz && quiz.salt) questions.forEach(function (q) { merge(q, unseal(quiz.salt, q)); });

  function $(id) { return doc.getElementById(id); }
  function fmt(s, v) { return String(s).replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); }
  function each(root, sel, fn) { [].forEach.call(root.querySelectorAll(sel), fn); }
  function field(q) { return $("q-" + q.id); }
  // Cleared first so a repeated text is read again; a newer announcement cancels an older pending one.
  var announcing;
  function announce(text) { var live = $("live"); clearTimeout(announcing); live.textContent = ""; announcing = setTimeout(function () { live.textContent = text; }, 50); }

  // answers: read from / write to the form
  function readAnswer(q) {
    var fs = field(q), i;
    if (isChoice(q)) {
      for (i = 0; i < q.answers.length; i++) if ($(q.id + "-" + q.answers[i].key).checked) return i;
      return null;
    }
    if (q.type === "multiple") return q.answers.map(function (a) { return $(q.id + "-" + a.key).checked; });
    if (q.type === "matching") return q.pairs.map(function (p) { var v = $(q.id + "-" + p.key).value; return v ? +v.slice(1) : -1; });
    if (q.type === "ordering") return q.items.map(function (k) { var v = $(q.id + "-" + k).value; return v ? +v : 0; });
    return fs.querySelector("[name='" + q.id + "']").value;
  }
  function writeAnswer(q, v) {
    var fs = field(q);
    if (isChoice(q)) q.answers.forEach(function (a, i) { $(q.id + "-" + a.key).checked = v === i; });
    else if (q.type === "multiple") q.answers.forEach(function (a, i) { $(q.id + "-" + a.key).checked = !!(v && v[i]); });
    else if (q.type === "matching") q.pairs.forEach(function (p, i) { $(q.id + "-" + p.key).value = v && v[i] >= 0 ? "r" + v[i] : ""; });
    else if (q.type === "ordering") q.items.forEach(function (k, i) { $(q.id + "-" + k).value = v && v[i] ? String(v[i]) : ""; });
    else fs.querySelector("[name='" + q.id + "']").value = v || "";
  }

  // Item pools: state.drawn marks the questions this attempt asks, `count` at random from each pool
  // (quiz.pools; a tool's own draw comes as question ids).
  function draw(ids) {
    var d = questions.map(function (q) { return ids ? ids.indexOf(q.id) >= 0 : !quiz.pools; });
    if (!ids) (quiz.pools || []).forEach(function (p) {
      p[1].map(function (i) { return [Math.random(), i]; }).sort(function (a, b) { return a[0] - b[0]; })
        .slice(0, p[0]).forEach(function (x) { d[x[1]] = true; });
    });
    state.drawn = d;
  }
  function showDrawn() {
    var n = 0;
    questions.forEach(function (q, i) { var fs = field(q); fs.hidden = !state.drawn[i]; if (!fs.hidden) fs.querySelector(".q-number").textContent = ++n + "."; });
  }
  function autoPoints() { return questions.reduce(function (s, q, i) { return s + (q.type === "essay" || !state.drawn[i] ? 0 : q.points); }, 0); }

  // suspend data: "1|page|visited(hex bits)|attempts|submitted|best|last|answer~answer…"
  var B36 = "0123456789abcdefghijklmnopqrstuvwxyz";
  function width(n) { return n < 36 ? 1 : 2; }
  function code(n, w) { var s = n.toString(36); while (s.length < w) s = "0" + s; return s; }
  function esc(s) { return s.replace(/%/g, "%25").replace(/~/g, "%7E").replace(/\|/g, "%7C"); }
  function encodeAnswer(q, v) {
    var w;
    if (v === null || v === undefined) return "";
    if (isChoice(q)) return code(v, 1);
    if (q.type === "multiple") return v.reduce(function (s, on, i) { return on ? s + code(i, width(q.answers.length)) : s; }, "") || "-";
    if (q.type === "matching") { w = width(q.rights + 1); return v.map(function (r) { return code(r + 1, w); }).join(""); }
    if (q.type === "ordering") { w = width(q.items.length + 1); return v.map(function (p) { return code(p, w); }).join(""); }
    return esc(v);
  }
  function decodeAnswer(q, s) {
    var out = [], w, i;
    if (s === "") return null;
    if (isChoice(q)) return parseInt(s, 36);
    if (q.type === "multiple") {
      w = width(q.answers.length);
      out = q.answers.map(function () { return false; });
      for (i = 0; s !== "-" && i < s.length; i += w) out[parseInt(s.substr(i, w), 36)] = true;
      return out;
    }
    if (q.type === "matching" || q.type === "ordering") {
      w = width((q.type === "matching" ? q.rights : q.items.length) + 1);
      for (i = 0; i < s.length; i += w) out.push(parseInt(s.substr(i, w), 36) - (q.type === "matching" ? 1 : 0));
      return out;
    }
    return decodeURIComponent(s);
  }
  function bits(list) {
    for (var hex = "", i = 0, b, n; i < list.length; i += 4) {
      for (n = 0, b = 0; b < 4; b++) if (list[i + b]) n |= 1 << b;
      hex += B36.charAt(n);
    }
    return hex;
  }
  function unbits(hex, like) {
    return like.map(function (x, j) { return !!(B36.indexOf(hex.charAt(j >> 2)) & (1 << (j & 3))); });
  }
  // Two more parts when questions were checked in the open attempt (feedback: immediate) or drawn for it
  // (item pools): the checked ones and the drawn ones.
  function encodeState(limit) {
    var texts = state.answers.slice(), s, longest;
    function pack() {
      return [FORMAT, state.page, bits(state.visited), state.attempts, state.submitted ? 1 : 0, state.best === null ? "" : state.best,
              state.last === null ? "" : state.last,
              questions.map(function (q, j) { return encodeAnswer(q, texts[j]); }).join("~")]
        .concat(quiz && quiz.pools || state.checked.indexOf(true) >= 0 ? [bits(state.checked), bits(state.drawn)] : []).join("|");
    }
    s = pack();
    // Over the LMS's limit only free texts can give way: shorten the longest until it fits.
    while (s.length > limit) {
      longest = -1;
      texts.forEach(function (t, i) { if (typeof t === "string" && (longest < 0 || t.length > texts[longest].length)) longest = i; });
      if (longest < 0 || !texts[longest]) break;
      texts[longest] = texts[longest].slice(0, Math.max(0, texts[longest].length - Math.max(16, s.length - limit)));
      s = pack();
    }
    return s;
  }
  function decodeState(s) {
    var parts = (s || "").split("|"), answers;
    if (parts[0] !== FORMAT || parts.length < 8) return false;
    answers = parts[7] === "" && questions.length === 0 ? [] : parts[7].split("~");
    if (answers.length !== questions.length) answers = [];
    state.page = Math.min(pages.length - 1, Math.max(0, +parts[1] || 0));
    state.visited = unbits(parts[2], pages);
    state.checked = unbits(parts[8] || "", questions);
    if (parts[9]) { state.drawn = unbits(parts[9], questions); nextDraw = false; }
    state.attempts = +parts[3] || 0;
    state.submitted = parts[4] === "1";
    state.best = parts[5] === "" ? null : +parts[5];
    state.last = parts[6] === "" ? null : +parts[6];
    state.answers = questions.map(function (q, j) { return answers.length ? decodeAnswer(q, answers[j]) : null; });
    return true;
  }

  // status as the LMS sees it
  function report(final) {
    var scored = quiz && autoPoints() > 0 && state.best !== null, seen = state.visited.filter(Boolean).length;
    var quizDone = !quiz || state.attempts > 0;
    var total = pages.length + (quiz ? 1 : 0);
    var r = {
      location: pages[state.page].id,
      state: encodeState(lms.limit),
      progress: round2((seen + (quiz && quizDone ? 1 : 0)) / total),
      completion: seen === pages.length && quizDone ? "completed" : "incomplete",
      success: scored ? (state.best >= data.passMark ? "passed" : "failed") : "unknown",
      score: scored ? state.best : null,
      final: !!final
    };
    r.finished = r.completion === "completed" && (r.success !== "failed" || attemptsLeft() === 0);
    return r;
  }
  function attemptsLeft() { return quiz.attempts ? Math.max(0, quiz.attempts - state.attempts) : Infinity; }
  function save(commit) { if (!ended) lms.save(report(false), commit); }

  // interactions, one record per question and submitted attempt
  var pending = [];
  function interaction(q, v, g, now) {
    var full = function (a) { return a.weight >= 99.999; };
    var rec = { q: q, id: q.id, kind: q.type, weighting: q.points, result: g ? (g.result === "correct" ? "correct" : "incorrect") : "neutral",
                timestamp: attemptStart, latency: ((changedAt[q.id] || now) - attemptStart) / 1000, correct: [], response: null };
    if (q.type === "truefalse") {
      rec.correct = [[q.truth]];
      if (v !== null) rec.response = [q.answers[v].correct ? q.truth : !q.truth];
    } else if (q.type === "single") {
      rec.correct = q.answers.filter(full).map(function (a) { return [q.answers.indexOf(a)]; });
      if (v !== null) rec.response = [v];
    } else if (q.type === "multiple") {
      rec.correct = [q.answers.reduce(function (l, a, i) { return a.correct ? l.concat(i) : l; }, [])];
      rec.response = v ? v.reduce(function (l, on, i) { return on ? l.concat(i) : l; }, []) : [];
    } else if (q.type === "short") {
      // Moodle-style wildcards (*) are no response a learner gives: not reported as correct patterns.
      rec.correct = q.answers.filter(full).filter(function (a) { return a.text.indexOf("*") < 0; }).map(function (a) { return a.text; });
      rec.response = v || "";
    } else if (q.type === "numerical") {
      rec.correct = q.answers.filter(full).map(function (a) { return [a.value - a.tolerance, a.value + a.tolerance, a.value]; });
      rec.response = num(v || "");
    } else if (q.type === "matching") {
      rec.correct = [q.pairs.map(function (p, i) { return [i, p.right]; })];
      rec.response = [];
      q.pairs.forEach(function (p, i) { if (v && v[i] >= 0) rec.response.push([i, v[i]]); });
    } else if (q.type === "ordering") {
      rec.correct = [q.items.map(function (k, i) { return i; }).sort(function (a, b) { return q.order[a] - q.order[b]; })];
      rec.response = q.items.map(function (k, i) { return i; }).filter(function (i) { return v && v[i]; })
        .sort(function (a, b) { return v[a] - v[b] || a - b; });
    } else {
      rec.response = v || "";
    }
    return rec;
  }

  // feedback: what a review (see review()) allows, nothing from the page itself
  function clearFeedback(q) {
    var fs = field(q);
    each(fs, ".is-correct,.is-wrong", function (el) { el.classList.remove("is-correct", "is-wrong"); });
    each(fs, ".fb,.q-result,.q-feedback,.q-feedback>div", function (el) { el.hidden = true; });
  }
  function fill(el, html) { el.innerHTML = html || ""; el.hidden = !html; }  // keys carry no empty feedback
  function showReview(q, r) {
    var fs = field(q), box = fs.querySelector(".q-feedback"), res = fs.querySelector(".q-result");
    clearFeedback(q);
    if (!r) return;
    Object.keys(r.marks).forEach(function (key) {
      var el = fs.querySelector("[data-key='" + key + "']"), fb = el ? el.querySelector(".fb") : $("fb-" + q.id);
      (el || fb).classList.add(r.marks[key] ? "is-correct" : "is-wrong");
      fill(fb, r.fb[key]);
    });
    if (r.result) {
      res.textContent = ui[r.result];
      res.className = "q-result " + r.result;
      res.hidden = false;
    }
    fill(box.querySelector(".fb-specific"), r.specific);
    fill(box.querySelector(".fb-general"), r.general);
    box.hidden = !r.specific && !r.general;
  }
  function showReviews() { questions.forEach(function (q) { showReview(q, reviews && reviews[q.id]); }); }

  // quiz flow
  var form = $("quiz-form");
  function lockOne(q, on) { each(field(q), "input,select,textarea,.q-check", function (el) { el.disabled = on; }); }
  function lock(on) {
    questions.forEach(function (q, i) { lockOne(q, on || state.checked[i]); });
    $("quiz-submit").hidden = on;
    $("quiz-retry").hidden = !(on && attemptsLeft() > 0);
  }
  // feedback: immediate — one question graded on request; its answer then stands for the attempt.
  function check(q) {
    var i = questions.indexOf(q), v = readAnswer(q);
    if (busy || state.submitted || state.checked[i] || isOpen(q, v)) return;
    function done(r) {
      if (!r) { announce(ui.submit_failed); return; }
      state.answers[i] = v;
      state.checked[i] = true;
      checks[q.id] = r;
      showReview(q, r);
      lockOne(q, true);
      announce(ui[r.result]);
      save(true);
    }
    if (lms.check) lms.check(q.id, v, function (res) { done(res && res.review[q.id]); });
    else done(review(q, v, grade(q, v)));
  }
  function showResult(announceIt) {
    var box = $("quiz-result"), gradable = autoPoints() > 0, passed = state.last >= data.passMark;
    var text = gradable ? fmt(ui.score, { score: state.last }) + " " + fmt(passed ? ui.passed : ui.failed, { mark: data.passMark }) : ui.finished;
    text += " " + (attemptsLeft() === Infinity ? "" : attemptsLeft() > 0 ? fmt(ui.attempts_left, { n: attemptsLeft() }) : ui.no_attempts);
    box.textContent = text.trim();
    box.className = "quiz-result" + (gradable ? passed ? " passed" : " failed" : "");
    box.hidden = false;
    if (announceIt) { announce(box.textContent); box.focus(); }
  }
  // Grading here (keys in the page, sealed) or by the LMS-side tool (lms.submit): the same result either way.
  function gradeLocally(attempts, best, now) {
    var earned = 0, rv = {}, score, left = quiz.attempts ? quiz.attempts - attempts : 1;
    questions.forEach(function (q, i) {
      if (!state.drawn[i]) return;
      var v = state.answers[i], g = grade(q, v);
      if (g) earned += g.fraction * q.points;
      rv[q.id] = review(q, v, g);
      if (now) pending.push(interaction(q, v, g, now));
    });
    score = autoPoints() > 0 ? round2(earned / autoPoints() * 100) : 0;
    if (autoPoints() > 0 && now) best = best === null ? score : Math.max(best, score);
    // The feedback policy, as scoring.reveals: after-last-attempt shows nothing while attempts are left and unpassed.
    return { score: score, attempts: attempts, best: best,
             review: quiz.feedback !== "after-last-attempt" || left < 1 || best >= data.passMark && best !== null ? rv : null };
  }
  // An attempt is used up on submit: with questions still open, the learner confirms first.
  function isOpen(q, v) {
    if (v === null || v === undefined) return true;
    if (q.type === "multiple") return v.indexOf(true) < 0;
    if (q.type === "matching") return v.indexOf(-1) >= 0;
    if (q.type === "ordering") return v.indexOf(0) >= 0;
    return typeof v === "string" && !v.trim();
  }
  function openQuestions() { return questions.filter(function (q, i) { return state.drawn[i] && isOpen(q, state.answers[i]); }); }
  function showOpen(open, focusIt) {
    var box = $("quiz-confirm");
    questions.forEach(function (q) { field(q).classList.toggle("is-open", open.indexOf(q) >= 0); });
    box.hidden = !open.length;
    if (!open.length) return;
    $("quiz-confirm-text").textContent = fmt(ui.open_questions, { n: open.length, total: state.drawn.filter(Boolean).length,
      list: open.map(function (q) { return field(q).querySelector(".q-number").textContent.replace(".", ""); }).join(", ") });
    if (focusIt) { box.focus(); announce($("quiz-confirm-text").textContent); }
  }
  function requestSubmit(ev) {
    ev.preventDefault();
    if (state.submitted || attemptsLeft() === 0) return;
    collect();
    var open = openQuestions();
    if (open.length) showOpen(open, true);
    else submitQuiz();
  }
  function toFirstOpen() {
    var open = openQuestions(), el = open.length && field(open[0]).querySelector("input,select,textarea");
    if (el) { el.focus(); field(open[0]).scrollIntoView(); }
  }
  function submitQuiz() {
    if (busy || state.submitted || attemptsLeft() === 0) return;
    var answers = {};
    collect();
    showOpen([], false);
    questions.forEach(function (q, i) { if (state.drawn[i]) answers[q.id] = state.answers[i]; });
    busy = true;
    $("quiz-submit").disabled = true;
    function done(res) {
      busy = false;
      $("quiz-submit").disabled = false;
      if (!res) { announce(ui.submit_failed); return; }
      state.last = res.score;
      state.attempts = res.attempts;
      state.best = res.best;
      state.submitted = true;
      reviews = res.review;
      nextDraw = res.drawn;
      showReviews();
      lock(true);
      showResult(true);
      save(true);
    }
    if (lms.submit) lms.submit(answers, done);
    else done(gradeLocally(state.attempts + 1, state.best, new Date()));
  }
  function retry() {
    state.submitted = false;
    state.answers = per(null);
    state.checked = per(false);
    draw(nextDraw);
    showDrawn();
    reviews = null;
    checks = {};
    questions.forEach(function (q) { writeAnswer(q, null); clearFeedback(q); });
    attemptStart = new Date(); changedAt = {};
    arrange();
    $("quiz-result").hidden = true;
    lock(false);
    save(true);
    var first = form.querySelector("input,select,textarea");
    if (first) first.focus();
  }
  function collect() { state.answers = questions.map(readAnswer); }
  // Options in an order of their own per attempt; the same again on resume (no randomness to store).
  function arrange() {
    var attempt = state.attempts + (state.submitted ? 0 : 1);
    questions.forEach(function (q) {
      if (!quiz.shuffle || !q.shuffle || (q.type !== "single" && q.type !== "multiple")) return;
      var list = field(q).querySelector(".options"), items = [].slice.call(list.children);
      items.map(function (li) { return [hash(q.id + "/" + attempt + "/" + li.getAttribute("data-key")), li]; })
        .sort(function (a, b) { return a[0] - b[0]; }).forEach(function (pair) { list.appendChild(pair[1]); });
    });
  }

  // pages
  function show(index, focus) {
    state.page = Math.max(0, Math.min(pages.length - 1, index));
    state.visited[state.page] = true;
    pages.forEach(function (p, i) { p.hidden = i !== state.page; });
    each(doc, ".toc a", function (a) {
      var i = pageIndex(a.getAttribute("data-page"));
      if (i === state.page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
      a.classList.toggle("done", !!state.visited[i]);
    });
    var seen = state.visited.filter(Boolean).length;
    $("progress").value = seen;
    $("progress-text").textContent = Math.round(seen / pages.length * 100) + " %";
    $("pager-status").textContent = fmt(ui.page_of, { n: state.page + 1, total: pages.length });
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page === pages.length - 1;
    if (focus) {
      var h = pages[state.page].querySelector("h2");
      h.setAttribute("tabindex", "-1");
      h.focus();
      if (win.scrollTo) win.scrollTo(0, 0);
    }
  }
  function pageIndex(id) { for (var i = 0; i < pages.length; i++) if (pages[i].id === id) return i; return -1; }
  function go(index) { show(index, true); save(true); }
  function followHash(hash) {
    var target = hash && doc.getElementById(decodeURIComponent(hash.slice(1)));
    var section = target && target.closest ? target.closest("section.page") : null;
    if (!section) return false;
    go(pageIndex(section.id));
    if (target !== section) { target.setAttribute("tabindex", "-1"); target.focus(); target.scrollIntoView(); }
    return true;
  }

  // start
  function start(saved) {
    var resumed = saved && saved.state ? decodeState(saved.state) : false;
    if (saved && pageIndex(saved.location) >= 0) state.page = pageIndex(saved.location);
    doc.querySelector(".progress").hidden = false;
    doc.querySelector(".pager").hidden = false;
    if (quiz) {
      arrange();
      questions.forEach(function (q, i) { writeAnswer(q, state.answers[i]); });
      var tool = saved && saved.quiz;
      if (tool) {  // the tool's record counts, not what the page saved
        state.attempts = tool.attempts; state.best = tool.best; state.last = tool.last;
        reviews = tool.review;
        checks = tool.checked;
        state.checked = questions.map(function (q) { return !state.submitted && !!checks[q.id]; });
        // The tool's draw is the open attempt's; a submitted one shows the set the page saved with it.
        if (tool.drawn && (!state.submitted || nextDraw !== false)) draw(tool.drawn);
        else nextDraw = tool.drawn;
      } else {
        if (nextDraw !== false) draw();
        if (state.submitted) reviews = gradeLocally(state.attempts, state.best, null).review;
      }
      showDrawn();
      if (state.submitted) { showReviews(); lock(true); showResult(false); } else {
        lock(false);
        questions.forEach(function (q, i) {
          if (state.checked[i]) showReview(q, checks[q.id] || review(q, state.answers[i], grade(q, state.answers[i])));
        });
      }
      form.addEventListener("click", function (ev) {
        var b = ev.target.closest(".q-check");
        if (b) check(questions[b.getAttribute("data-check")]);
      });
      form.addEventListener("submit", requestSubmit);
      $("quiz-confirm-submit").addEventListener("click", submitQuiz);
      $("quiz-confirm-back").addEventListener("click", toFirstOpen);
      $("quiz-retry").addEventListener("click", retry);
      $("quiz-result").setAttribute("tabindex", "-1");
      form.addEventListener("change", function (ev) {
        var fs = ev.target.closest("fieldset");
        if (fs) changedAt[fs.getAttribute("data-qid")] = new Date();
        collect();
        if (!$("quiz-confirm").hidden) showOpen(openQuestions(), false);
        save(false);
      });
    }
    show(state.page, false);
    if (resumed) announce(ui.resume);
    else if (location.hash) followHash(location.hash);
    $("prev").addEventListener("click", function () { go(state.page - 1); });
    $("next").addEventListener("click", function () { go(state.page + 1); });
    doc.addEventListener("click", function (ev) {
      var a = ev.target.closest && ev.target.closest("a[href^='#']");
      if (a && a.getAttribute("href").length > 1 && !a.classList.contains("skip") && followHash(a.getAttribute("href"))) ev.preventDefault();
    });
    save(true);
    win.addEventListener("pagehide", finish);
    win.addEventListener("beforeunload", finish);
  }
  function finish() {
    if (ended) return;
    var r = report(true);
    ended = true;
    lms.finish(r, (new Date() - sessionStart) / 1000);
  }

  // LMS adapters
  function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
  function isoDuration(sec) {
    var h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60), s = round2(sec % 60);
    return "PT" + (h ? h + "H" : "") + (m ? m + "M" : "") + s + "S";
  }
  function timespan12(sec) {
    var h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60), s = sec % 60;
    return pad(Math.min(h, 9999), 4) + ":" + pad(m, 2) + ":" + pad(s.toFixed(2), 5);
  }
  // Fractions of a second with two digits: Moodle's SCORM 2004 API accepts no more.
  function isoTime(t) { return t.toISOString().replace(/(\.\d\d)\d*Z$/, "$1Z"); }
  function dec(x) { x = String(+(+x).toFixed(6)); return x.indexOf("e") < 0 ? x : "0"; }
  function oneLine(text, max) { return String(text).replace(/\s+/g, " ").replace(/^\{/, "(").replace(/\[[,.:]\]/g, " ").slice(0, max); }

  // SCORM 1.2 identifies choices by one character: a–z, then 0–9 (a 37th option would wrap).
  function char12(i) { return B36.charAt((i + 10) % 36); }
  var TYPES = { single: "choice", multiple: "choice", truefalse: "true-false", short: "fill-in", numerical: "numeric",
                matching: "matching", ordering: "sequencing", essay: "long-fill-in" };
  function type(rec, v2004) { return v2004 || rec.kind !== "essay" ? TYPES[rec.kind] : "fill-in"; }
  // Responses in each version's format; null = the version cannot express this one.
  function pattern(rec, value, v2004) {
    var Q = rec.q, sep = v2004 ? "[,]" : ",";
    function key(i) { return v2004 ? Q.answers[i].key : char12(i); }
    function item(i) { return v2004 ? Q.items[i] : char12(i); }
    if (value === null || value === "" || value.length === 0) return null;
    switch (rec.kind) {
      case "truefalse": return v2004 ? String(value[0]) : value[0] ? "t" : "f";
      case "single": case "multiple": return value.map(key).join(sep);
      case "short": return v2004 ? oneLine(value, 250) : oneLine(value, 255);
      case "essay": return v2004 ? oneLine(value, 4000) : oneLine(value, 255);
      case "numerical": return dec(value);
      case "matching": return value.map(function (p) {
        return v2004 ? Q.pairs[p[0]].key + "[.]r" + p[1] : char12(p[0]) + "." + char12(p[1]);
      }).join(sep);
      case "ordering": return value.map(item).join(sep);
    }
  }
  function correctPattern(rec, c, v2004) {
    var Q = rec.q;
    if (rec.kind === "numerical") return v2004 ? dec(c[0]) + "[:]" + dec(c[1]) : dec(c[2]);
    if (rec.kind === "short") return v2004 ? "{case_matters=" + !!Q.caseSensitive + "}" + oneLine(c, 230) : oneLine(c, 255);
    return pattern(rec, c, v2004);
  }

  function findAPI(name) {
    function scan(w) {
      for (var n = 0; w && n <= 500; n++) {
        try { if (w[name]) return w[name]; } catch (e) { return null; }
        if (w.parent === w) break;
        w = w.parent;
      }
      return null;
    }
    var api = scan(win);
    if (!api && win.opener) { try { api = scan(win.opener); } catch (e) { api = null; } }
    return api;
  }

  function scormAdapter(v2004) {
    var api = findAPI(v2004 ? "API_1484_11" : "API");
    var C = v2004 ? "cmi." : "cmi.core.";
    if (!api) return null;
    // The 2004 name of a call, as the version names it (1.2: LMSInitialize, …, LMSFinish).
    function P(fn) { return v2004 ? fn : fn === "Terminate" ? "LMSFinish" : "LMS" + fn; }
    function call(fn, a, b) {
      var r = b === undefined ? api[P(fn)](a) : api[P(fn)](a, b);
      var e = String(api[P("GetLastError")]());
      if (e !== "0" && e !== "") console.warn("LMS " + P(fn) + "(" + a + ") error " + e);
      return r;
    }
    function get(k) { return call("GetValue", k); }
    function set(k, v) { if (v !== null && v !== undefined) call("SetValue", k, String(v)); }
    var next = 0;
    function writeInteractions() {
      pending.forEach(function (rec) {
        var p = "cmi.interactions." + next++ + ".", t = rec.timestamp;
        set(p + "id", rec.id);
        set(p + "type", type(rec, v2004));
        if (v2004) set(p + "timestamp", isoTime(t));
        else set(p + "time", pad(t.getHours(), 2) + ":" + pad(t.getMinutes(), 2) + ":" + pad(t.getSeconds(), 2));
        set(p + "weighting", dec(rec.weighting));
        rec.correct.forEach(function (c, i) { set(p + "correct_responses." + i + ".pattern", correctPattern(rec, c, v2004)); });
        set(p + (v2004 ? "learner_response" : "student_response"), pattern(rec, rec.response, v2004));
        set(p + "result", v2004 || rec.result !== "incorrect" ? rec.result : "wrong");
        set(p + "latency", v2004 ? isoDuration(rec.latency) : timespan12(rec.latency));
      });
      pending = [];
    }
    function put(r) {
      set(C + (v2004 ? "location" : "lesson_location"), r.location);
      set("cmi.suspend_data", r.state);
      if (r.score !== null) {
        set(C + "score.min", "0"); set(C + "score.max", "100"); set(C + "score.raw", dec(r.score));
        if (v2004) set("cmi.score.scaled", dec(r.score / 100));
      }
      if (v2004) {
        set("cmi.completion_status", r.completion);
        set("cmi.success_status", r.success);
        set("cmi.progress_measure", dec(r.progress));
      } else {
        set("cmi.core.lesson_status", r.success !== "unknown" ? r.success : r.completion);
      }
      set(C + "exit", r.finished ? (v2004 ? "normal" : "") : "suspend");
      writeInteractions();
    }
    return {
      limit: v2004 ? 64000 : 4096,
      start: function (done) {
        call("Initialize", "");
        var entry = get(C + "entry"), saved = {};
        next = +get("cmi.interactions._count") || 0;
        if (entry === "resume" || (!v2004 && entry !== "ab-initio")) {
          saved = { location: get(C + (v2004 ? "location" : "lesson_location")), state: get("cmi.suspend_data") };
        }
        done(saved);
      },
      save: function (r, commit) { put(r); if (commit) call("Commit", ""); },
      finish: function (r, seconds) {
        put(r);
        set(C + "session_time", v2004 ? isoDuration(seconds) : timespan12(seconds));
        call("Terminate", "");
      }
    };
  }

  function storageAdapter() {
    var key = "course_builder:" + data.course + ":" + data.module;
    function put(r) { try { localStorage.setItem(key, JSON.stringify({ location: r.location, state: r.state })); } catch (e) { /* storage off */ } }
    return {
      limit: 64000,
      start: function (done) {
        var saved = {};
        try { saved = JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { saved = {}; }
        done(saved);
      },
      save: function (r, commit) { if (commit) put(r); },
      finish: put
    };
  }

  // The LTI tool: state is saved there, attempts are graded there (the page has no key).
  function httpAdapter() {
    var url = data.stateUrl;
    function call(method, target, body, keepalive) {
      return fetch(target, { method: method, credentials: "same-origin", keepalive: keepalive,
                             headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": data.csrf },
                             body: body && JSON.stringify(body) })
        .then(function (res) { if (!res.ok) throw new Error(res.status); return res.status === 204 ? {} : res.json(); });
    }
    function post(body, done) { call("POST", data.attemptUrl, body).then(done, function () { done(null); }); }
    function send(r) {
      return call("PUT", url, { location: r.location, state: r.state, progress: r.progress, completion: r.completion,
                                final: r.final }, r.final).catch(function () { /* the next save sends it again */ });
    }
    return {
      limit: 64000,
      start: function (done) { call("GET", url).then(done, function () { done({}); }); },
      submit: function (answers, done) { post({ answers: answers }, done); },
      check: function (id, v, done) { post({ check: id, answer: v }, done); },
      save: function (r, commit) { if (commit) send(r); },
      finish: send
    };
  }

  doc.documentElement.classList.add("js");
  lms = data.lms === "scorm12" ? scormAdapter(false) : data.lms === "scorm2004" ? scormAdapter(true)
      : data.lms === "http" ? httpAdapter() : null;
  lms = lms || storageAdapter();
  lms.start(start);
})();
