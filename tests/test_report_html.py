"""The HTML report as a reader uses it: findings in risk order (a leaked secret that is live first),
a reach picture for every finding whose subject reaches anything, an agents table, and filters by
severity, cloud, rule and owner with a search box, checked in a real headless Chromium driven over
the DevTools protocol (``--remote-debugging-pipe``: real mouse clicks and typed text, no driver
library), offline, with no console error."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from agentreach.report import render

from .test_report import KEY, ROLE, USER, _chromium, fixture_report

AZ_SP = "azure:sp:33333333-0000-4000-8000-0000000000a2"
AZ_DIR = "azure:directory:3f2b8c1e"
GCP_SA = "gcp:sa:adk-agent@agents-prod.iam.gserviceaccount.com"
GCP_DS = "gcp:bigquery_dataset:agents-prod:customer_data"


def html_report() -> dict[str, Any]:
    """The shared fixture plus what a real estate adds: a leaked key that is live (its finding
    carries no path: the key's other findings do), and agents in Azure and GCP with owners."""
    report = fixture_report()
    findings = report["findings"]
    findings.append({
        "rule": "AR-SECRET-LEAKED-LIVE", "severity": "critical", "title": "Leaked secret matches a live credential",
        "subject": KEY, "subject_name": "AKIAEXAMPLEKEY000001", "subject_type": "aws_iam_access_key",
        "account": "123456789012", "path": [], "locations": [{"path": ".env", "line": 3, "root": "support-bot"}],
        "evidence": ["the active aws_access_key AKIAEXAMPLEKEY000001 of svc-support-bot is written in .env:3",
                     "agent verdict possible (score 0.368): propagated.credential-of-agent: it authenticates as "
                     "svc-support-bot",
                     "owner: ownerless: no owner tag"],
        "frameworks": ["OWASP-NHI:NHI2:2025"], "remediation": "Deactivate the credential now.",
        "fingerprint": "1" * 64})
    findings.append({
        "rule": "AR-AGENT-ORPHANED", "severity": "critical", "title": "Agent credential whose owner has left",
        "subject": AZ_SP, "subject_name": "Helpdesk Agent (US)", "subject_type": "azure_sp",
        "account": "3f2b8c1e", "locations": [],
        "path": [{"from": AZ_SP, "from_name": "Helpdesk Agent (US)", "to": AZ_DIR, "to_name": "Entra directory",
                  "edge": "can_access", "grant": ["directory role Directory Readers at /"], "conditional": False}],
        "evidence": ["owner Bob Lee: orphaned: Bob Lee is inactive",
                     "agent verdict agent (score 0.999): azure.object.agent-identity",
                     "reaches high-sensitivity azure_directory Entra directory with read access in 1 hop(s); last "
                     "hop Helpdesk Agent (US) -can_access-> Entra directory"],
        "frameworks": ["OWASP-NHI:NHI1:2025"], "remediation": "Reassign the identity.", "fingerprint": "2" * 64})
    findings.append({
        "rule": "AR-AGENT-SENSITIVE-REACH", "severity": "high", "title": "Agent credential reaches a sensitive system",
        "subject": GCP_SA, "subject_name": "adk-agent", "subject_type": "gcp_sa", "account": "agents-prod",
        "locations": [],
        "path": [{"from": GCP_SA, "from_name": "adk-agent", "to": GCP_DS, "to_name": "customer_data",
                  "edge": "can_access", "grant": ["roles/bigquery.dataViewer on project agents-prod"],
                  "conditional": True}],
        "evidence": ["owner alice@example.com: owned: alice@example.com is active",
                     "agent verdict agent (score 0.97): gcp.agent-engine",
                     "reaches high-sensitivity gcp_bigquery_dataset customer_data with read access (conditional) "
                     "in 1 hop(s)"],
        "frameworks": ["OWASP-NHI:NHI5:2025"], "remediation": "Scope the binding.", "fingerprint": "3" * 64})
    report["summary"]["counts"] = None  # recounted from the findings
    return report


def _cards(page: str) -> list[dict[str, str]]:
    """The finding cards of a page in document order, with their data- attributes."""
    return [{**dict(re.findall(r'data-([a-z]+)="([^"]*)"', m.group(2))), "id": m.group(1)}
            for m in re.finditer(r'<article class="finding[^"]*" id="([^"]+)"([^>]*)>', page)]


# ---------------------------------------------------------------- static


def test_critical_findings_in_risk_order_leaked_live_first() -> None:
    report = html_report()
    page = render("html", report)
    crit = [c["rule"] for c in _cards(page) if c["severity"] == "critical"]
    # in the report the leaked-live finding comes last; on the page it is the first card
    assert [f["rule"] for f in report["findings"] if f["severity"] == "critical"][-2] == "AR-SECRET-LEAKED-LIVE"
    assert crit[0] == "AR-SECRET-LEAKED-LIVE"
    # then an unconditional reach before one through a conditional hop
    assert crit == ["AR-SECRET-LEAKED-LIVE", "AR-AGENT-ORPHANED", "AR-AGENT-REACHES-SENSITIVE"]
    md = render("md", report)
    assert md.index("Leaked secret matches a live credential") < md.index("Agent key reaches customer invoices")


def test_a_finding_without_a_path_shows_its_subjects_reach() -> None:
    page = render("html", html_report())
    card = page[page.index('id="f-' + "1" * 64): page.index("</article>", page.index('id="f-' + "1" * 64))]
    assert "<svg" in card and "AKIAEXAMPLEKEY000001 -authenticates-&gt; svc-support-bot" in card
    assert 'as <a href="#f-' + "b" * 64 + '">AR-AGENT-REACHES-SENSITIVE</a> shows it' in card
    assert "<dt>Location</dt><dd><code>.env:3</code>" in card
    # a high finding with a path gets its picture too (before, only critical ones had one)
    gcp = page[page.index('id="f-' + "3" * 64): page.index("</article>", page.index('id="f-' + "3" * 64))]
    assert "<svg" in gcp and "can_access (conditional)" in gcp


def test_agents_table() -> None:
    page = render("html", html_report())
    table = page[page.index('<table class="agents">'): page.index("</table>", page.index('<table class="agents">'))]
    rows = re.findall(r'<tr class="agent" data-subject="([^"]+)"[^>]*>(.*?)</tr>', table, re.S)
    by_subject = {s: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for s, body in rows}
    assert list(by_subject)[0] == KEY  # its worst finding is the leaked-live one
    # the agents: every subject with an agent verdict or an agent rule (the hostile-named role too)
    assert len(by_subject) == 5 and {KEY, AZ_SP, GCP_SA, ROLE} <= set(by_subject)
    key_row = by_subject[KEY]
    assert "ownerless" in key_row and "Leaked secret matches a live credential" in key_row
    assert "1 system customer-invoices" in key_row
    az = by_subject[AZ_SP]
    assert "Bob Lee" in az and "orphaned" in az and "Entra directory" in az and "up to read" in az
    assert "alice@example.com" in by_subject[GCP_SA] and "owned" in by_subject[GCP_SA]
    assert USER not in by_subject  # the user is only a hop, not a finding's subject


def test_filter_controls_hold_every_value() -> None:
    report = html_report()
    page = render("html", report)
    cards = _cards(page)
    assert len(cards) == len(report["findings"])
    assert {c["cloud"] for c in cards} == {"aws", "azure", "gcp", "file"}
    for select_id, key in (("f-cloud", "cloud"), ("f-rule", "rule"), ("f-owner", "owner")):
        block = page[page.index(f'id="{select_id}"'): page.index("</select>", page.index(f'id="{select_id}"'))]
        options = set(re.findall(r'<option value="([^"]+)"', block))
        assert options == {c[key] for c in cards}, select_id
    assert {"Bob Lee", "alice@example.com", "(no owner)"} <= {c["owner"] for c in cards}
    assert 'Bob Lee [orphaned] (1)' in page


# ---------------------------------------------------------------- in a real browser


def _above(fd: int, low: int) -> int:
    """``fd`` moved to a descriptor number >= ``low``."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, low)
    os.close(fd)
    return high


class Chromium:
    """Headless Chromium over the DevTools protocol on a pipe (fd 3 in, fd 4 out, NUL-framed JSON)."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()
        # above 4, so that the shell's "3<&a 4>&b" cannot overwrite one end with the other
        to_child, from_child = (_above(fd, 10) for fd in (to_child, from_child))
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,2000", f"--user-data-dir={profile}", "about:blank"]
        self.proc = subprocess.Popen(["bash", "-c", f'exec "$@" 3<&{to_child} 4>&{from_child}', "sh", *args],
                                     pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buf, self._n, self.events = b"", 0, []
        self.session = ""

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False) -> dict[str, Any]:
        self._n += 1
        msg: dict[str, Any] = {"id": self._n, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._n:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result") or {}
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event["method"] == method:
                return self.events.pop(i)
        while True:
            event = self._read(deadline)
            if event.get("method") == method:
                return event
            if "method" in event:
                self.events.append(event)

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 browser=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click on the element: the middle of its first box (a link that wraps has
        one per line), scrolled into view first."""
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      " e.scrollIntoView({block: 'center'}); const r = e.getClientRects()[0];"
                      " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                   "clickCount": 1})

    def type(self, text: str) -> None:
        """Text typed into the focused element, key by key."""
        for char in text:
            self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": char, "key": char})
            self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": char})

    def errors(self) -> list[str]:
        out = []
        for event in self.events:
            params = event.get("params") or {}
            if event["method"] == "Runtime.exceptionThrown":
                # the message itself, not a cut of the whole record: the record starts with the
                # page's URL, whose length follows the temporary directory's, and a cut there
                # once dropped the very name the check looks for
                details = params.get("exceptionDetails") or {}
                described = (details.get("exception") or {}).get("description") or ""
                out.append(f"{details.get('text', '')} {described}".strip()[:500])
            elif event["method"] == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(params["entry"].get("text", ""))
            elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
                out.append(json.dumps(params.get("args"))[:500])
        return out

    def error_seen(self, needle: str, count: int = 1, timeout: float = 15) -> bool:
        """Whether ``count`` errors naming ``needle`` arrive within ``timeout``: what a page reports
        while loading may come after its load event, so one look at the events so far races."""
        deadline = time.monotonic() + timeout
        while sum(needle in e for e in self.errors()) < count:
            try:
                event = self._read(deadline)
            except TimeoutError:
                return False
            if "method" in event:
                self.events.append(event)
        return True

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
        except (EOFError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._w)
        os.close(self._r)


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    exe = _chromium()
    chrome = Chromium(exe, tmp_path / "profile")
    yield chrome
    chrome.close()


VISIBLE = "Array.from(document.querySelectorAll('article.finding')).filter(e => e.offsetParent !== null)"


def visible_rules(browser: Chromium) -> list[str]:
    return browser.js(f"{VISIBLE}.map(e => e.dataset.rule)")


def visible_agents(browser: Chromium) -> list[str]:
    return browser.js("Array.from(document.querySelectorAll('tr.agent')).filter(e => e.offsetParent !== null)"
                      ".map(e => e.dataset.subject)")


def test_filters_and_search_in_headless_chromium(browser: Chromium, tmp_path: Path) -> None:
    report = html_report()
    page = tmp_path / "report.html"
    page.write_text(render("html", report), encoding="utf-8")
    browser.open(page.as_uri())
    total = len(report["findings"])
    assert browser.js("document.documentElement.className") == "js"
    assert len(visible_rules(browser)) == total
    assert browser.js("document.getElementById('f-count').textContent") == f"All {total} findings"

    # click the "critical" severity chip: only the critical cards stay, the leaked-live one first
    browser.click("button.sev-filter[data-value=critical]")
    crit = [f for f in report["findings"] if f["severity"] == "critical"]
    assert visible_rules(browser) == ["AR-SECRET-LEAKED-LIVE", "AR-AGENT-ORPHANED", "AR-AGENT-REACHES-SENSITIVE"]
    assert len(crit) == 3
    assert browser.js("document.getElementById('f-count').textContent") == f"3 of {total} findings"
    assert browser.js("document.querySelector('section.group[data-severity=high]').offsetParent") is None

    # and type a search: cards narrow to those whose text holds every word
    browser.click("#f-search")
    browser.type("bob lee")
    assert visible_rules(browser) == ["AR-AGENT-ORPHANED"]
    assert visible_agents(browser) == [AZ_SP]  # the agents table follows the visible cards

    # a search that matches nothing says so
    browser.type("zzz")
    assert visible_rules(browser) == []
    assert browser.js("document.getElementById('f-empty').offsetParent !== null")

    # clear, then the cloud, rule and owner selects (chosen as a reader does: value, then change)
    browser.click("#f-clear")
    assert len(visible_rules(browser)) == total
    for select_id, value, expect in (("f-cloud", "gcp", ["AR-AGENT-SENSITIVE-REACH"]),
                                     ("f-rule", "AR-KEY-STALE", ["AR-KEY-STALE"]),
                                     ("f-owner", "Bob Lee", ["AR-AGENT-ORPHANED"])):
        browser.js(f"(() => {{ const s = document.getElementById('{select_id}'); s.value = {json.dumps(value)};"
                   f" s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()")
        assert visible_rules(browser) == expect, select_id
        browser.click("#f-clear")

    # a filter hides a finding the agents table links to: following the link shows it again
    browser.click("button.sev-filter[data-value=info]")
    assert visible_rules(browser) == ["AR-AGENT-DETECTED"]
    browser.js("document.querySelector('tr.agent').hidden = false")
    browser.click("tr.agent a")
    assert len(visible_rules(browser)) == total
    assert browser.errors() == []


def test_browser_error_check_is_not_vacuous(browser: Chromium, tmp_path: Path) -> None:
    """The same session does see what the filters test asserts away: a script the page's CSP
    refuses (an injected one, and the page's own once changed: its hash no longer matches), and
    an exception a script throws."""
    page = tmp_path / "bad.html"
    tampered = render("html", html_report()).replace("apply();\n})();", "apply(); window.x = 1;\n})();")
    page.write_text(tampered.replace("</main>", "</main><script>document.title = 'injected'</script>"),
                    encoding="utf-8")
    browser.open(page.as_uri())
    browser.error_seen("Content Security Policy", count=2)
    refused = [e for e in browser.errors() if "Content Security Policy" in e]
    assert len(refused) == 2, browser.errors()
    assert browser.js("document.documentElement.className") == "" and browser.js("document.title") != "injected"
    browser.events.clear()
    thrower = tmp_path / "throws.html"
    thrower.write_text("<!DOCTYPE html><html><body><script>nosuchfn();</script></body></html>", encoding="utf-8")
    browser.open(thrower.as_uri())
    assert browser.error_seen("nosuchfn"), browser.errors()
