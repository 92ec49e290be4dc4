"""Helpers for the SCORM tests: the ADL control schemas from ../shared, and packages built once per session."""

from __future__ import annotations

from contextlib import contextmanager

import json
import zipfile
from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree

from course_builder import player
from conftest import run_course, shared

IMSMD = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"

_WRAPPERS = {
    "scorm12": ("scorm12", {
        "http://www.imsproject.org/xsd/imscp_rootv1p1p2": "imscp_rootv1p1p2.xsd",
        "http://www.adlnet.org/xsd/adlcp_rootv1p2": "adlcp_rootv1p2.xsd",
    }),
    "scorm2004": ("scorm2004_4ed", {
        "http://www.imsglobal.org/xsd/imscp_v1p1": "imscp_v1p1.xsd",
        "http://www.adlnet.org/xsd/adlcp_v1p3": "adlcp_v1p3.xsd",
        "http://www.adlnet.org/xsd/adlseq_v1p3": "adlseq_v1p3.xsd",
        "http://www.adlnet.org/xsd/adlnav_v1p3": "adlnav_v1p3.xsd",
        "http://www.imsglobal.org/xsd/imsss": "imsss_v1p0.xsd",
    }),
}


class _PatchedImsXml(etree.Resolver):
    """libxml2 rejects ims_xml.xsd binding the xml namespace as default namespace; drop that binding in memory."""

    def resolve(self, url, pubid, context):
        if url.endswith("ims_xml.xsd"):
            text = Path(url.replace("file://", "")).read_text(encoding="utf-8")
            text = text.replace('xmlns="http://www.w3.org/XML/1998/namespace"', "", 1)
            return self.resolve_string(text, context)
        return None


@lru_cache(maxsize=None)
def schema(version: str) -> etree.XMLSchema:
    folder, imports = _WRAPPERS[version]
    # lxml would silently skip a missing import and reject every manifest with a misleading error.
    base = shared("schemas", folder)
    wrapper = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(base / name).as_uri()}"/>' for ns, name in imports.items()
    ) + "</xs:schema>"
    parser = etree.XMLParser()
    parser.resolvers.add(_PatchedImsXml())
    doc = etree.fromstring(wrapper.encode(), parser, base_url=(base / "wrapper.xsd").as_uri())
    return etree.XMLSchema(doc)


def validate(manifest: bytes, version: str) -> list[str]:
    """Schema errors of a manifest (inline IMS MD 1.2.1 metadata is stripped for 1.2, see PROVENANCE.md)."""
    doc = etree.fromstring(manifest)
    if version == "scorm12":
        for node in doc.iter(f"{{{IMSMD}}}*"):
            if node.getparent() is not None and not node.getparent().tag.startswith(f"{{{IMSMD}}}"):
                node.getparent().remove(node)
    s = schema(version)
    return [] if s.validate(doc) else [str(e) for e in s.error_log]


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


# --- a local LMS for browser tests: scorm-again in a wrapper page that frames the SCO -------------

import http.server
import threading

REPO = Path(__file__).resolve().parent.parent
SCORM_AGAIN = REPO / "node_modules" / "scorm-again" / "dist"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# The LMS side: scorm-again as window.API / window.API_1484_11. Every API call is followed by a
# GetLastError check, and scorm-again's own log is collected, so that tests can demand silence.
WRAPPER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LMS</title><link rel="icon" href="data:,">
<script src="/scorm-again/scorm12.js"></script>
<script src="/scorm-again/scorm2004.js"></script>
<script>
(function () {
  var params = new URLSearchParams(location.search), v2004 = params.get("v") === "scorm2004";
  window.lmsLog = []; window.lmsCalls = []; window.lmsErrors = [];
  var settings = { logLevel: 3, autocommit: false,
                   onLogMessage: function (level, message) { window.lmsLog.push([String(level), message]); } };
  var api = v2004 ? new Scorm2004API(settings) : new Scorm12API(settings);
  if (window.__cmi) api.loadFromJSON(window.__cmi);
  window.lmsApi = api;
  var names = v2004 ? ["Initialize", "Terminate", "GetValue", "SetValue", "Commit", "GetLastError", "GetErrorString", "GetDiagnostic"]
                    : ["LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"];
  var facade = {};
  names.forEach(function (name) {
    facade[name] = function () {
      var args = [].slice.call(arguments), result = api[name].apply(api, args);
      if (!/Error|Diagnostic/.test(name)) {
        var code = String(api[v2004 ? "GetLastError" : "LMSGetLastError"]());
        window.lmsCalls.push([name].concat(args).concat([String(result)]));
        if (code !== "0") window.lmsErrors.push([name, args, code]);
      }
      return result;
    };
  });
  window[v2004 ? "API_1484_11" : "API"] = facade;
})();
</script></head>
<body><iframe id="sco" title="SCO" style="width:100%;height:90vh" src=""></iframe>
<script>document.getElementById("sco").src = new URLSearchParams(location.search).get("sco");</script>
</body></html>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    roots: dict[str, Path] = {}
    pages: dict[str, bytes] = {}
    missing: list[str] = []

    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in self.roots.items():
            if clean.startswith(prefix):
                rel = clean[len(prefix):]
                return str(root / http.server.urllib.parse.unquote(rel))
        return str(Path("/nonexistent") / clean.lstrip("/"))

    def do_GET(self):
        clean = self.path.split("?", 1)[0]
        if clean == "/favicon.ico":  # browsers ask the server, not the package
            self.send_response(204)
            self.end_headers()
            return
        if clean in self.pages:
            body = self.pages[clean]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def send_error(self, code, message=None, explain=None):
        if code == 404:
            self.missing.append(self.path)
        super().send_error(code, message, explain)

    def log_message(self, *args):
        pass


class StaticServer:
    """A file server on 127.0.0.1 mapping URL prefixes to folders; remembers every 404."""

    def __init__(self, roots: dict[str, Path], pages: dict[str, bytes] | None = None):
        handler = type("Handler", (_Handler,), {"roots": roots, "pages": pages or {}, "missing": []})
        self.handler = handler
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def missing(self) -> list[str]:
        return self.handler.missing

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, as 'rule: [targets]'."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in result["violations"]]


def extract(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(target)
    return target


_PLAYWRIGHT = None
_BROWSER = None


def shared_browser():
    """One headless Chromium for the whole test session (Playwright's sync API allows one driver per thread)."""
    global _PLAYWRIGHT, _BROWSER
    if _BROWSER is None:
        import atexit

        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT = sync_playwright().start()
        _BROWSER = _PLAYWRIGHT.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def stop() -> None:
            _BROWSER.close()
            _PLAYWRIGHT.stop()

        atexit.register(stop)
    return _BROWSER


class PageWatch:
    """Collects console errors, page errors and failed responses of a Playwright page (all frames)."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("response", lambda res: self.errors.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None)
        page.on("requestfailed", lambda req: self.errors.append(f"failed: {req.url}")
                if not req.url.startswith("about:") else None)


# --- driving a SCO in the wrapper page ------------------------------------------------------------

VERSIONS = ["scorm12", "scorm2004"]


def build_served_packages(course_dir: Path, out: Path) -> Path:
    """Build both SCORM versions of a course and unpack every package into out/pkg/<zip name>/."""
    result = run_course("build", "-t", "scorm", "-o", str(out / "build"), cwd=course_dir)
    assert result.code == 0, result.output
    served = out / "pkg"
    for version in VERSIONS:
        for zip_path in sorted((out / "build" / version).glob("*.zip")):
            extract(zip_path, served / zip_path.stem)
    return served


class Session:
    """One launch of a SCO in the wrapper page."""

    def __init__(self, browser, server, version: str, package: str, module_id: str, cmi: dict | None = None):
        self.version = version
        self.context = browser.new_context(viewport={"width": 1100, "height": 900})
        self.page = self.context.new_page()
        self.watch = PageWatch(self.page)
        if cmi is not None:
            self.page.add_init_script(f"window.__cmi = {json.dumps(cmi)};")
        sco = f"/pkg/{package}/{module_id}/index.html"
        self.page.goto(f"{server.url}/lms.html?v={version}&sco={sco}")
        self.sco = self.page.frame_locator("#sco")
        self.sco.locator("html.js").wait_for(state="attached")
        self.sco.locator(".pager:not([hidden])").wait_for()

    def frame(self):
        return self.page.query_selector("#sco").content_frame()

    def by_id(self, element_id: str):
        return self.sco.locator(f'[id="{element_id}"]')

    def visible_page(self) -> str:
        return self.frame().evaluate("[...document.querySelectorAll('section.page')].find(s => !s.hidden).id")

    def next_until(self, page_id: str | None = None) -> None:
        """Press "next" until page_id is shown (or the last page)."""
        while self.visible_page() != page_id:
            button = self.sco.locator("#next")
            if button.is_disabled():
                assert page_id is None, f"page {page_id} not reached"
                return
            button.click()

    def leave(self) -> dict:
        """Close the SCO as a learner does (the frame navigates away) and return the LMS's CMI data."""
        finish = "Terminate" if self.version == "scorm2004" else "LMSFinish"
        self.page.evaluate("document.getElementById('sco').src = 'about:blank'")
        self.page.wait_for_function(f"window.lmsCalls.some(c => c[0] === '{finish}')")
        return self.page.evaluate("window.lmsApi.renderCMIToJSONObject().cmi")

    def calls(self) -> list[list[str]]:
        return self.page.evaluate("window.lmsCalls")

    def sets(self) -> dict[str, str]:
        """The last value the SCO set for each element."""
        name = "SetValue" if self.version == "scorm2004" else "LMSSetValue"
        return {c[1]: c[2] for c in self.calls() if c[0] == name}

    def assert_silent(self, server) -> None:
        assert self.page.evaluate("window.lmsErrors") == []
        assert self.page.evaluate("window.lmsLog") == []
        assert self.watch.errors == []
        assert server.missing == []

    def close(self) -> None:
        self.context.close()


def answer_quiz(session: Session, course, module_id: str, right: bool, only: int | None = None,
                skip: int = 0) -> list:
    """Answer the module's quiz through the form, right or wrong (the first `only` questions, after
    `skip`); returns what was entered per question."""
    from course_builder.scoring import merged

    quiz = course.quiz_for(module_id)
    entered = []
    for number, q in enumerate(quiz.questions):
        if only is not None and number >= only:
            break
        if number < skip:
            continue
        data = merged(player.question_data(q), player.question_key(q))
        by_id = session.by_id
        if q.type in ("single", "truefalse"):
            pick = next(a["key"] for a in data["answers"] if a["correct"] == right)
            by_id(f"{q.id}-{pick}").check()
            entered.append(pick)
        elif q.type == "multiple":
            chosen = [a["key"] for a in data["answers"] if a["correct"] == right]
            for key in chosen:
                by_id(f"{q.id}-{key}").check()
            entered.append(chosen)
        elif q.type in ("short", "numerical"):
            best = max(q.answers, key=lambda a: a.weight)
            if right:
                text = best.text.markdown.strip() if q.type == "short" else f"{best.value:g}"
            else:
                text = "Kooperation" if q.type == "short" else f"{best.value + best.tolerance + 7:g}"
            by_id(f"{q.id}-input").fill(text)
            entered.append(text)
        elif q.type == "matching":
            choice = {}
            for pair in data["pairs"]:
                right_index = pair["right"] if right else (pair["right"] + 1) % data["rights"]
                by_id(f"{q.id}-{pair['key']}").select_option(f"r{right_index}")
                choice[pair["key"]] = f"r{right_index}"
            entered.append(choice)
        elif q.type == "ordering":
            n = len(data["items"])
            choice = {}
            for key, position in zip(data["items"], data["order"]):
                value = str(position if right else position % n + 1)
                by_id(f"{q.id}-{key}").select_option(value)
                choice[key] = value
            entered.append(choice)
        elif q.type == "essay":
            text = "Mein Netzwerk verbindet Schulen, Betriebe und die Kammer ~ seit 2024 | 100 % engagiert."
            by_id(f"{q.id}-input").fill(text)
            entered.append(text)
    return entered


def module_pages(course, module) -> list[str]:
    pages = ["intro"] + [f"lesson-{lesson.id}" for lesson in module.lessons]
    if course.quiz_for(module.id):
        pages.append("quiz")
    return pages + [f"task-{t.id}" for t in course.tasks_for(module.id)]


def next_launch_cmi(version: str, cmi: dict) -> dict:
    """What an LMS hands the SCO on the next launch after a suspended session."""
    if version == "scorm12":
        core = cmi["core"]
        assert core["exit"] == "suspend"
        return {"core": {"entry": "resume", "lesson_location": core["lesson_location"],
                         "lesson_status": core["lesson_status"]}, "suspend_data": cmi["suspend_data"]}
    assert cmi["exit"] == "suspend"
    return {"entry": "resume", "location": cmi["location"], "suspend_data": cmi["suspend_data"],
            "completion_status": cmi["completion_status"]}


@pytest.fixture(scope="session")
def browser():
    """The session's Chromium, as a fixture (import it into a test module to use it)."""
    return shared_browser()


@contextmanager
def served_lms(course_dir: Path, out: Path):
    """A course's SCORM packages and scorm-again, served on 127.0.0.1; `.course` is the loaded course."""
    from course_builder.loader import load

    served = build_served_packages(course_dir, out)
    server = StaticServer({"/pkg/": served, "/scorm-again/": SCORM_AGAIN}, {"/lms.html": WRAPPER.encode()})
    server.course = load(course_dir).course
    try:
        yield server
    finally:
        server.close()
