/* A local stand-in for an LMS's SCORM 1.2 API (window.API), behaving as Moodle's does where it matters:
   - cmi.core.entry is "ab-initio" on the first launch, "resume" after a session that ended with
     exit = "suspend", else "" (Moodle's rule); lesson_status starts as "not attempted";
   - data reach the store on LMSCommit and LMSFinish only (uncommitted values are lost, as in Moodle);
   - LMSFinish sets "not attempted" to "completed", and with a mastery score and a raw score sets
     passed / failed from the score (credit mode); session_time is added to total_time;
   - every element is checked as SCORM 1.2 defines it (read-only, write-only, keywords, formats,
     ranges, array indexes) and sets the error codes Moodle sets (101, 201, 202, 203, 301, 402–405).
   The data are kept as flat "element → string" pairs. No dependencies. */
(function () {
  "use strict";

  var STATUS = /^(passed|completed|failed|incomplete|browsed)$/;
  var STATUS2 = /^(passed|completed|failed|incomplete|browsed|not attempted)$/;
  var DECIMAL = /^-?[0-9]{0,3}(\.[0-9]*)?$/;
  var SINTEGER = /^-?[0-9]+$/;
  var IDENTIFIER = /^[\u0021-\u007E]{0,255}$/;
  var STRING255 = /^[\s\S]{0,255}$/;
  var STRING4096 = /^[\s\S]{0,4096}$/;
  var TIME = /^[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,2})?$/;
  var TIMESPAN = /^[0-9]{2,4}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,2})?$/;
  var EXIT = /^(time-out|suspend|logout|)$/;
  var TYPE = /^(true-false|choice|fill-in|matching|performance|sequencing|likert|numeric)$/;
  var RESULT = /^(correct|wrong|unanticipated|neutral|-?[0-9]{0,3}(\.[0-9]*)?)$/;

  var CHILDREN = {
    "cmi": "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions",
    "cmi.core": "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
    "cmi.core.score": "raw,min,max",
    "cmi.objectives": "id,score,status",
    "cmi.objectives.n.score": "raw,min,max",
    "cmi.student_data": "mastery_score,max_time_allowed,time_limit_action",
    "cmi.student_preference": "audio,language,speed,text",
    "cmi.interactions": "id,objectives,time,type,correct_responses,weighting,student_response,result,latency"
  };
  var ARRAYS = ["cmi.objectives", "cmi.interactions", "cmi.interactions.n.objectives", "cmi.interactions.n.correct_responses"];
  // element (indexes as .n.) → [mode, format, range]
  var MODEL = {
    "cmi.core.student_id": ["r"], "cmi.core.student_name": ["r"], "cmi.core.credit": ["r"], "cmi.core.entry": ["r"],
    "cmi.core.total_time": ["r"], "cmi.core.lesson_mode": ["r"], "cmi.launch_data": ["r"], "cmi.comments_from_lms": ["r"],
    "cmi.student_data.mastery_score": ["r"], "cmi.student_data.max_time_allowed": ["r"], "cmi.student_data.time_limit_action": ["r"],
    "cmi.core.lesson_location": ["rw", STRING255],
    "cmi.core.lesson_status": ["rw", STATUS],
    "cmi.core.score.raw": ["rw", DECIMAL, [0, 100]], "cmi.core.score.min": ["rw", DECIMAL, [0, 100]],
    "cmi.core.score.max": ["rw", DECIMAL, [0, 100]],
    "cmi.core.exit": ["w", EXIT], "cmi.core.session_time": ["w", TIMESPAN],
    "cmi.suspend_data": ["rw", STRING4096], "cmi.comments": ["rw", STRING4096],
    "cmi.objectives.n.id": ["rw", IDENTIFIER], "cmi.objectives.n.status": ["rw", STATUS2],
    "cmi.objectives.n.score.raw": ["rw", DECIMAL, [0, 100]], "cmi.objectives.n.score.min": ["rw", DECIMAL, [0, 100]],
    "cmi.objectives.n.score.max": ["rw", DECIMAL, [0, 100]],
    "cmi.student_preference.audio": ["rw", SINTEGER, [-1, 100]], "cmi.student_preference.language": ["rw", STRING255],
    "cmi.student_preference.speed": ["rw", SINTEGER, [-100, 100]], "cmi.student_preference.text": ["rw", SINTEGER, [-1, 1]],
    "cmi.interactions.n.id": ["w", IDENTIFIER], "cmi.interactions.n.objectives.n.id": ["w", IDENTIFIER],
    "cmi.interactions.n.time": ["w", TIME], "cmi.interactions.n.type": ["w", TYPE],
    "cmi.interactions.n.correct_responses.n.pattern": ["w", STRING255],
    "cmi.interactions.n.weighting": ["w", DECIMAL, [-100, 100]], "cmi.interactions.n.student_response": ["w", STRING255],
    "cmi.interactions.n.result": ["w", RESULT], "cmi.interactions.n.latency": ["w", TIMESPAN]
  };
  var ERRORS = { "0": "No error", "101": "General exception", "201": "Invalid argument error",
                 "202": "Element cannot have children", "203": "Element not an array - cannot have count",
                 "301": "Not initialized", "401": "Not implemented error", "402": "Invalid set value, element is a keyword",
                 "403": "Element is read only", "404": "Element is write only", "405": "Incorrect data type" };
  var DEFAULTS = { "cmi.core.lesson_status": "not attempted", "cmi.core.total_time": "0000:00:00.00" };

  function generic(element) { return element.replace(/\.\d+(?=\.)/g, ".n"); }
  function count(data, prefix) {
    var n = 0, re = new RegExp("^" + prefix.replace(/\./g, "\\.") + "\\.(\\d+)\\.");
    Object.keys(data).forEach(function (k) { var m = re.exec(k); if (m) n = Math.max(n, +m[1] + 1); });
    return n;
  }
  function centiseconds(span) {
    var p = span.split(":");
    return Math.round(((+p[0] * 60 + +p[1]) * 60 + parseFloat(p[2])) * 100);
  }
  function timespan(cs) {
    function pad(v, w) { v = String(v); while (v.length < w) v = "0" + v; return v; }
    var s = Math.floor(cs / 100), h = Math.floor(s / 3600);
    return pad(Math.min(h, 9999), 4) + ":" + pad(Math.floor(s % 3600 / 60), 2) + ":" + pad(s % 60, 2) + "." + pad(cs % 100, 2);
  }

  /* options: launch = {learner: {id, name}, masteryScore: "80" | ""}, onStore(cmi, final), onCall(entry), onChange() */
  function Scorm12Api(options) {
    var stored = {}, session = null, launch = {}, error = "0", calls = 0, started = 0;

    function entryFor(data) {
      if (!data["cmi.core.lesson_status"]) return "ab-initio";
      return data["cmi.core.exit"] === "suspend" ? "resume" : "";
    }
    function log(fn, args, result) {
      calls += 1;
      if (options.onCall) options.onCall({ n: calls, ms: Date.now() - started, fn: fn, args: args, result: result, error: error });
      if (options.onChange) options.onChange();
      return result;
    }
    function fail(code) { error = code; return code; }

    function known(g) { return !!(MODEL[g] || CHILDREN[g] !== undefined || ARRAYS.indexOf(g) >= 0); }
    function read(element) {
      var m = /^(.*)\._(children|count)$/.exec(element), g = generic(element), parent;
      if (element === "cmi._version") return "3.4";
      if (m) {
        parent = generic(m[1]);
        if (m[2] === "children" && CHILDREN[parent] !== undefined) return CHILDREN[parent];
        if (m[2] === "count" && ARRAYS.indexOf(parent) >= 0) return String(count(session, m[1]));
        fail(!known(parent) ? "201" : m[2] === "children" ? "202" : "203");
        return null;
      }
      if (!MODEL[g]) { fail("201"); return null; }
      if (MODEL[g][0] === "w") { fail("404"); return null; }
      return session[element] !== undefined ? session[element] : "";
    }
    function write(element, value) {
      var g = generic(element), spec = MODEL[g], parts = element.split("."), i;
      if (/\._(children|count|version)$/.test(element)) {
        return fail(known(generic(element.replace(/\._\w+$/, ""))) || element === "cmi._version" ? "402" : "201");
      }
      if (!spec) return fail("201");
      if (spec[0] === "r") return fail("403");
      if (!spec[1].test(value) || (spec[2] && (+value < spec[2][0] || +value > spec[2][1]))) return fail("405");
      // an array element is written at an existing index or appended at the next one, never beyond
      for (i = 1; i < parts.length; i++) {
        if (/^\d+$/.test(parts[i]) && +parts[i] > count(session, parts.slice(0, i).join("."))) return fail("201");
      }
      session[element] = value;
      return "0";
    }

    var api = {
      LMSInitialize: function (param) {
        error = "0";
        if (param !== "") fail("201");
        else if (session) fail("101");
        else {
          session = {};
          Object.keys(stored).forEach(function (k) { session[k] = stored[k]; });
          Object.keys(DEFAULTS).forEach(function (k) { if (session[k] === undefined) session[k] = DEFAULTS[k]; });
          session["cmi.core.entry"] = entryFor(stored);
          session["cmi.core.student_id"] = launch.learner.id;
          session["cmi.core.student_name"] = launch.learner.name;
          session["cmi.core.credit"] = "credit";
          session["cmi.core.lesson_mode"] = "normal";
          session["cmi.student_data.mastery_score"] = launch.masteryScore || "";
          started = Date.now();
          return log("LMSInitialize", [param], "true");
        }
        return log("LMSInitialize", [param], "false");
      },
      LMSFinish: function (param) {
        error = "0";
        if (param !== "") fail("201");
        else if (!session) fail("301");
        else {
          var s = session, mastery = s["cmi.student_data.mastery_score"], raw = s["cmi.core.score.raw"];
          if (s["cmi.core.lesson_status"] === "not attempted") s["cmi.core.lesson_status"] = "completed";
          if (mastery !== "" && raw !== undefined && raw !== "") {
            s["cmi.core.lesson_status"] = parseFloat(raw) >= parseFloat(mastery) ? "passed" : "failed";
          }
          if (s["cmi.core.session_time"]) {
            s["cmi.core.total_time"] = timespan(centiseconds(s["cmi.core.total_time"]) + centiseconds(s["cmi.core.session_time"]));
          }
          store(true);
          session = null;
          return log("LMSFinish", [param], "true");
        }
        return log("LMSFinish", [param], "false");
      },
      LMSGetValue: function (element) {
        error = "0";
        var value = null;
        if (!session) fail("301");
        else if (!element) fail("201");
        else value = read(String(element));
        return log("LMSGetValue", [element], value === null ? "" : value);
      },
      LMSSetValue: function (element, value) {
        error = "0";
        if (!session) fail("301");
        else if (!element) fail("201");
        else write(String(element), String(value));
        return log("LMSSetValue", [element, value], error === "0" ? "true" : "false");
      },
      LMSCommit: function (param) {
        error = "0";
        if (param !== "") fail("201");
        else if (!session) fail("301");
        else { store(false); return log("LMSCommit", [param], "true"); }
        return log("LMSCommit", [param], "false");
      },
      // Asked after every call by most SCOs: answered without a log entry of their own (each entry shows its code).
      LMSGetLastError: function () { return error; },
      LMSGetErrorString: function (code) { return ERRORS[String(code)] || ""; },
      LMSGetDiagnostic: function (code) { return code ? String(code) + " " + (ERRORS[String(code)] || "") : error; }
    };

    function store(final) {
      // session-only elements are not data the LMS keeps
      var keep = {};
      Object.keys(session).forEach(function (k) {
        if (!/^cmi\.core\.(entry|student_id|student_name|credit|lesson_mode|session_time)$|^cmi\.student_data\./.test(k)) keep[k] = session[k];
      });
      stored = keep;
      if (options.onStore) options.onStore(JSON.parse(JSON.stringify(keep)), final);
    }

    return {
      api: api,
      /* A new launch of a SCO with the data the LMS stored for it. */
      launch: function (data, settings) {
        stored = JSON.parse(JSON.stringify(data || {}));
        session = null;
        launch = settings;
        error = "0";
        calls = 0;
        if (options.onChange) options.onChange();
      },
      /* What the debug panel shows: the running session's values, else the stored ones. */
      view: function () {
        var data = session || stored, interactions = [], n = count(data, "cmi.interactions"), i;
        for (i = 0; i < n; i++) {
          interactions.push({ id: data["cmi.interactions." + i + ".id"] || "", type: data["cmi.interactions." + i + ".type"] || "",
                              response: data["cmi.interactions." + i + ".student_response"] || "",
                              result: data["cmi.interactions." + i + ".result"] || "",
                              weighting: data["cmi.interactions." + i + ".weighting"] || "",
                              latency: data["cmi.interactions." + i + ".latency"] || "" });
        }
        return { running: !!session, entry: session ? session["cmi.core.entry"] : entryFor(stored),
                 status: data["cmi.core.lesson_status"] || DEFAULTS["cmi.core.lesson_status"],
                 raw: data["cmi.core.score.raw"] || "", location: data["cmi.core.lesson_location"] || "",
                 exit: data["cmi.core.exit"] || "", suspend: data["cmi.suspend_data"] || "",
                 totalTime: data["cmi.core.total_time"] || DEFAULTS["cmi.core.total_time"], interactions: interactions };
      },
      errorString: function (code) { return ERRORS[code] || ""; }
    };
  }

  window.Scorm12Api = Scorm12Api;
})();
