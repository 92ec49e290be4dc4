/* Learner runtime: shows one page at a time. Without JavaScript every page stays visible. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("player-data").textContent);
  var pages = Array.prototype.slice.call(document.querySelectorAll("section.page"));
  var key = "course_builder:" + data.course + ":" + data.module + ":page";
  var current = 0;
  function show(index) {
    current = Math.max(0, Math.min(pages.length - 1, index));
    pages.forEach(function (p, i) { p.hidden = i !== current; });
    try { localStorage.setItem(key, pages[current].id); } catch (e) { /* storage may be off */ }
  }
  document.documentElement.classList.add("js");
  var saved = null;
  try { saved = localStorage.getItem(key); } catch (e) { saved = null; }
  var start = pages.findIndex(function (p) { return p.id === saved; });
  show(start < 0 ? 0 : start);
  document.querySelector(".pager").hidden = false;
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
})();
