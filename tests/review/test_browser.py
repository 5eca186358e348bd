"""End to end in a real headless Chromium (Debian's ``chromium`` driven by Playwright through
``executable_path``; never ``playwright install``), as a prosecutor would use the service from the README:

night 1 — ``lsm sample``, ``lsm run``, ``lsm publish``, ``lsm users add``, ``lsm serve``; log in, filter the
queue, open a clue, read its evidence and timeline, confirm it and a second clue of the same model, issue one
检察建议 covering both and record the agency's 整改 reply;
night 2 — the agency stopped one person's payments (their payment rows are gone from the data), the other
person is still paid: ``lsm run`` and ``lsm publish --as-of`` after the reply deadline; the queue shows the
persisting clue as 整改未落实 and the recommendation counts one rectified by data;
the auditor sees the prosecutor's decisions in the audit log.

A screenshot of every page goes to tests/artifacts/browser/ (look at them: Chinese must render, not boxes).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
LSM = [sys.executable, "-m", "engine.cli"]
MODEL = "prisoner_dibao"
AS_OF = "2024-06-30"
PASSWORD = "证据确凿-2024"


def lsm(*args: str, cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run([*LSM, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, f"lsm {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        assert server.poll() is None, server.stderr.read().decode()
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("lsm serve did not answer /api/v1/health in 60 s")


def top_clues(run_dir: Path, model: str, n: int) -> list[dict]:
    table = pq.read_table(run_dir / "clues.parquet").to_pylist()
    return sorted((c for c in table if c["model_id"] == model), key=lambda c: -c["score"])[:n]


def fuzzy_matched_clue(run_dir: Path, model: str) -> tuple[dict, dict]:
    """The best-scored clue of ``model`` whose evidence records a fuzzy field comparison, and that
    comparison (the match explanation the clue page must show)."""
    for c in top_clues(run_dir, model, 10_000):
        for pair in json.loads(c["evidence"])["values"].get("name_match") or []:
            for field, comparison in pair.items():
                if isinstance(comparison, dict) and comparison.get("level") == "fuzzy":
                    return c, {"field": field, **comparison}
    raise AssertionError(f"no clue of {model} in {run_dir} was matched fuzzily")


def payment_ids(clue: dict) -> set[str]:
    return {s["key"]["payment_id"] for s in json.loads(clue["evidence"])["sources"] if s["dataset"] == "dibao_payments"}


def drop_payments(folder: Path, ids: set[str]) -> int:
    """Remove the payment rows with these payment ids (first column) from every monthly CSV, keeping each
    file's encoding and line ends: what the data shows once the agency stopped paying and clawed back."""
    dropped = 0
    for path in sorted(folder.glob("*.csv")):
        raw = path.read_bytes()
        encoding = "utf-8" if raw.startswith(b"\xef\xbb\xbf") or _is_utf8(raw) else "gb18030"
        rows = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
        kept = [r for r in rows if not r or unicodedata.normalize("NFKC", r[0]).strip() not in ids]
        dropped += len(rows) - len(kept)
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n" if b"\r\n" in raw else "\n").writerows(kept)
        path.write_bytes(out.getvalue().encode(encoding))
    return dropped


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


class Shots:
    """Numbered full-page screenshots ``<prefix><nn>-<name>.png`` (the old ones of that prefix removed)."""

    def __init__(self, page: Page, prefix: str = ""):
        self.page, self.n, self.prefix = page, 0, prefix
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{prefix}[0-9]*.png"):
            old.unlink()

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.prefix}{self.n:02d}-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def night1(tmp_path_factory):
    """Sample data, the first night's run, published; a prosecutor and an auditor; the server."""
    work = tmp_path_factory.mktemp("e2e")
    lsm("sample", "--out", "data", "--scale", "300", cwd=work)
    lsm("run", "--data", "data", "--out", "runs", "--as-of", AS_OF, cwd=work)
    lsm("publish", "runs/latest", cwd=work)
    lsm("users", "add", "zhang", "--role", "prosecutor", cwd=work, stdin=PASSWORD + "\n")
    lsm("users", "add", "li", "--role", "auditor", cwd=work, stdin=PASSWORD + "\n")
    port = free_port()
    server = subprocess.Popen([*LSM, "serve", "--runs", "runs", "--port", str(port)], cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO), "LSM_SECRET": "e2e-" + "s" * 32})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        yield work, url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "apt-get install chromium fonts-noto-cjk (.ci/run does)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def log_in(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(f"{url}/queue")


def confirm(page: Page, url: str, clue_id: str) -> None:
    page.goto(f"{url}/clues/{clue_id}")
    form = page.locator(f"form[action='/clues/{clue_id}/decide']")
    form.locator("select[name=status]").select_option("confirmed")
    form.locator("input[name=assignee_me]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("属实")


def test_a_prosecutor_works_the_loop_in_a_real_browser(night1, browser):
    work, url = night1
    first, second = top_clues(work / "runs" / "latest", MODEL, 2)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    shot = Shots(page)

    # anonymous: sent to the login page
    page.goto(f"{url}/queue")
    expect(page).to_have_url(f"{url}/login")
    shot("login")
    log_in(page, url, "zhang")
    expect(page.locator("h1")).to_contain_text("线索队列")
    shot("queue")

    # filter the queue by the model: only its clues, best first, IDs masked
    page.select_option("form.filters select[name=model_id]", MODEL)
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/queue\?model_id={MODEL}&"))
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_contain_text(MODEL)
    assert rows.count() == len(top_clues(work / "runs" / "latest", MODEL, 10_000))
    queue_text = page.locator("table.queue").inner_text()
    assert first["subject_id"] not in queue_text and first["subject_id"][:6] in queue_text
    assert rows.first.locator("a[href^='/clues/']").inner_text().strip() == first["subject_name"].strip()
    shot("queue-filtered")

    # the clue: summary, evidence side by side, the timeline drawn as SVG
    rows.first.locator("a[href^='/clues/']").click()
    expect(page).to_have_url(re.compile(rf"/clues/{first['clue_id']}\?model_id={MODEL}"))
    body = page.locator("body")
    expect(body).to_contain_text("prison_roster")
    expect(body).to_contain_text("dibao_payments")
    assert page.locator("section.timeline svg").count() == 1
    assert page.locator("section.timeline svg rect").count() >= 2
    assert first["subject_id"] not in body.inner_text()
    shot("clue")

    confirm(page, url, first["clue_id"])
    shot("clue-confirmed")

    # keyboard triage (static/keys.js): j j Enter opens the second clue, c chooses 属实, Ctrl+Enter saves
    page.goto(f"{url}/queue?model_id={MODEL}")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("table#queue-table tr.current")).to_have_attribute("data-clue-id", second["clue_id"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/clues/{second['clue_id']}\?model_id={MODEL}"))
    page.keyboard.press("c")
    expect(page.locator("#decision-status")).to_have_value("confirmed")
    page.keyboard.press("Control+Enter")
    expect(page.locator("dt:has-text('状态') + dd")).to_contain_text("属实")
    expect(page.locator("dt:has-text('状态') + dd")).to_contain_text("版本 2")
    shot("clue-confirmed-by-keyboard")
    page.keyboard.press("p")                          # the previous clue of the same queue: the first
    expect(page).to_have_url(re.compile(rf"/clues/{first['clue_id']}\?"))

    # one 检察建议 for both (类案), deadline two months after the issue date
    page.goto(f"{url}/recommendations")
    form = page.locator("form[action='/recommendations']")
    form.locator("input[name=agency]").fill("成都市锦江区民政局")
    form.locator("input[name=issued_on]").fill("2024-07-01")
    for clue in (first, second):
        form.locator(f"input[name=clue_id][value='{clue['clue_id']}']").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("2024-09-01")
    expect(page.locator("body")).to_contain_text("成都市锦江区民政局")
    rec_url = page.url
    assert "/recommendations/" in rec_url
    shot("recommendation")

    reply = page.locator("form[action$='/reply']")
    reply.locator("input[name=replied_on]").fill("2024-08-20")
    reply.locator("textarea[name=text], input[name=text]").first.fill("已停发两人低保并追回款项")
    reply.locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("已停发两人低保并追回款项")
    shot("recommendation-replied")

    # night 2: the agency stopped the first person's payments only; 回头看 after the deadline
    assert drop_payments(work / "data" / "dibao_payments", payment_ids(first)) == len(payment_ids(first))
    lsm("run", "--data", "data", "--out", "runs", "--as-of", AS_OF, cwd=work)
    lsm("publish", "runs/latest", "--as-of", "2024-09-15", cwd=work)

    page.goto(f"{url}/queue?model_id={MODEL}&rectification=failed")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(second["subject_name"].strip())
    expect(rows.first).to_contain_text("整改未落实")
    shot("queue-rectification-failed")

    page.goto(rec_url)
    recs = page.locator("body").inner_text()
    assert "整改未落实" in recs
    shot("recommendation-follow-up")
    page.goto(f"{url}/recommendations")
    row = page.locator("table.recs tbody tr").first
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[-2:] == ["1", "1"], cells            # 整改未落实 1, 已整改（数据）1
    page.goto(f"{url}/clues/{first['clue_id']}")
    expect(page.locator("body")).to_contain_text("已消失")
    shot("clue-resolved")

    # the auditor sees zhang's decisions; zhang cannot open the audit page
    assert page.goto(f"{url}/audit").status == 403
    page.goto(f"{url}/queue")
    page.click("form.logout button[type=submit]")
    log_in(page, url, "li")
    page.goto(f"{url}/audit")
    audit_rows = page.locator("table.audit tbody tr")
    cells = [[c.strip() for c in row.locator("td").all_inner_texts()] for row in audit_rows.all()]
    decided = {row[3] for row in cells if row[1:3] == ["zhang", "decision"]}
    assert len(decided) == 2 and all(c["clue_id"] in " ".join(decided) for c in (first, second)), cells[:10]
    assert first["subject_id"] not in page.locator("body").inner_text()
    shot("audit")
    context.close()


def test_triage_and_the_match_explanation_in_a_real_browser(night1, browser):
    """An analyst sets a model's 优先核查 share on /models; the prosecutor sees the badge in the queue, opens
    a clue whose organisation names were matched fuzzily — the 匹配说明 with its scores, the collided
    fields marked, IDs masked — prints its 线索移送表, sets the subject aside (暂缓) and draws a QC sample."""
    work, url = night1
    lsm("users", "add", "wang", "--role", "analyst", cwd=work, stdin=PASSWORD + "\n")
    wage, comparison = fuzzy_matched_clue(work / "runs" / "latest", "wage_deposit")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    shot = Shots(page, prefix="triage-")

    log_in(page, url, "wang")
    page.goto(f"{url}/models")
    form = page.locator("tr[data-model-id=wage_deposit] form")
    form.locator("input[name=percent]").fill("50")
    form.locator("button[type=submit]").click()
    expect(page.locator("tr[data-model-id=wage_deposit] input[name=percent]")).to_have_value("50")
    assert page.locator("section.model-figures svg").count() >= 10
    shot("models")
    page.click("form.logout button[type=submit]")

    log_in(page, url, "zhang")
    page.goto(f"{url}/queue?model_id=wage_deposit&recommended=1")
    rows = page.locator("table.queue tbody tr")
    expect(rows.first.locator(".recommended-badge")).to_have_text("优先核查")
    n_all = len(top_clues(work / "runs" / "latest", "wage_deposit", 10_000))
    assert rows.count() == -(-n_all * 50 // 100)          # ceil(n · 50 / 100) of its open clues
    shot("queue-recommended")

    page.goto(f"{url}/clues/{wage['clue_id']}")
    explanation = page.locator("#match-explanation")
    row = explanation.locator(f"tr.level-fuzzy:has(td:text-is('{comparison['field']}'))").first
    expect(row).to_contain_text("近似")
    expect(row).to_contain_text(f"相似度 {comparison['ratio']:g}")
    expect(row).to_contain_text(comparison["left"])
    expect(row).to_contain_text(comparison["right"])
    marked = page.locator("table.evidence td.matched")
    assert marked.count() >= 2
    body = page.locator("body").inner_text()
    assert not re.search(r"\d{17}[\dX]", body), "a full ID number on a prosecutor's page"
    shot("clue-match-explanation")

    page.goto(f"{url}/clues/{wage['clue_id']}/sheet")
    assert page.locator("table.evidence td.matched").count() == marked.count()
    assert not re.search(r"\d{17}[\dX]", page.locator("body").inner_text())
    shot("clue-sheet")

    page.goto(f"{url}/clues/{wage['clue_id']}")
    form = page.locator("#suppress-form")
    form.locator("input[name=until]").fill("2099-12-31")
    form.locator("input[name=reason]").fill("项目已进入仲裁程序")
    form.locator("button[type=submit]").click()
    expect(page.locator("#suppression")).to_contain_text("已暂缓至 2099-12-31")
    shot("clue-suppressed")
    page.goto(f"{url}/queue?model_id=wage_deposit")
    expect(page.locator(f"table.queue tr[data-clue-id='{wage['clue_id']}']")).to_have_count(0)
    page.goto(f"{url}/queue?model_id=wage_deposit&suppressed=1")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    shot("queue-suppressed")

    page.goto(f"{url}/queue?sample=qc&size=5&seed=7")
    expect(page.locator("#qc-info")).to_have_attribute("data-seed", "7")
    sampled = page.locator("table.queue tbody tr").all_inner_texts()
    page.reload()
    assert page.locator("table.queue tbody tr").all_inner_texts() == sampled and len(sampled) == 5
    shot("queue-qc-sample")
    context.close()
