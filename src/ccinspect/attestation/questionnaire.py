"""The attestation questionnaire: written as YAML or XLSX, filled in by the broker, read back and judged.

One layout for both formats, row by row: topic, item (question id, `doc:<id>`, `expiry`, `prepared_by`,
`reviewer`, `reviewed_on`), the question in the chosen language, the answer. Documents are answered with
the attached files' names (relative to the questionnaire's folder, separated by ";"). User text is stored
as text in XLSX (never a formula) and read back as strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ccinspect.core.dates import months_before, parse_date
from ccinspect.core.errors import InputError, define
from ccinspect.core.files import atomic_file, atomic_write_text
from ccinspect.core.results import Check, Fact, Status

from .model import Topic, TopicsFile, load_topics

FORMAT_ID = "ccinspect-attestation/1"
SIGN_OFF = ("prepared_by", "reviewer", "reviewed_on")
HEADER = ["topic", "item", "question", "answer"]

BAD_LAYOUT = define("attest.layout", "{detail}", "{detail_zh}")
UNKNOWN_TOPIC = define("attest.topic", "unknown topic {topic!r}", "未知之聲明主題 {topic!r}")
UNKNOWN_ITEM = define("attest.item", "topic {topic}: unknown item {item!r}", "主題 {topic}：未知之項目 {item!r}")
BAD_DATE = define("attest.date", "topic {topic}, item {item}: {value!r} is not a date",
                  "主題 {topic}，項目 {item}：{value!r} 不是日期")


@dataclass
class TopicAnswers:
    topic: str
    answers: dict[str, str] = field(default_factory=dict)  # item → answer text
    where: dict[str, int] = field(default_factory=dict)  # item → line / spreadsheet row


def _rows(topics: list[Topic], lang: str) -> list[tuple[str, str, str]]:
    en = lang == "en"
    rows = []
    for t in topics:
        for q in t.questions:
            hint = {"yes_no": " (yes/no)", "date": " (YYYY-MM-DD)"}.get(q.kind, "") if en else \
                {"yes_no": "（是/否）", "date": "（YYYY-MM-DD）"}.get(q.kind, "")
            rows.append((t.id, q.id, (q.text_en if en else q.text) + hint))
        for d in t.documents:
            rows.append((t.id, f"doc:{d.id}", (d.text_en if en else d.text) +
                         (" — attached file names, ';' between" if en else "—附件檔名，以「;」分隔")))
        if t.expiry:
            rows.append((t.id, "expiry", (t.expiry.text_en if en else t.expiry.text) + " (YYYY-MM-DD)"))
        for item, zh, e in (("prepared_by", "填寫人", "Prepared by"), ("reviewer", "覆核主管", "Reviewer (sign-off)"),
                            ("reviewed_on", "覆核日期（YYYY-MM-DD）", "Reviewed on (YYYY-MM-DD)")):
            rows.append((t.id, item, e if en else zh))
    return rows


def _select(topics: TopicsFile, ids: list[str] | None) -> list[Topic]:
    if not ids:
        return list(topics.topics)
    out = []
    for i in ids:
        try:
            out.append(topics.get(i))
        except KeyError:
            raise InputError(UNKNOWN_TOPIC, field="--topic", topic=i) from None
    return out


def write_template(path: Path, *, lang: str = "zh", topic_ids: list[str] | None = None,
                   topics: TopicsFile | None = None) -> Path:
    """An empty questionnaire, YAML or XLSX by the file's extension, written atomically."""
    chosen = _select(topics or load_topics(), topic_ids)
    rows = _rows(chosen, lang)
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        from ccinspect.core.safe_cells import append_text

        wb = Workbook()
        ws = wb.active
        ws.title = "attestation"
        ws.append(HEADER)
        for r in rows:
            append_text(ws, [*r, None])
        ws.column_dimensions["C"].width = 80
        ws.column_dimensions["D"].width = 40
        with atomic_file(path) as tmp:
            wb.save(tmp)
        return path
    doc = {"format": FORMAT_ID, "lang": lang, "items": [
        {"topic": t, "item": i, "question": q, "answer": None} for t, i, q in rows]}
    return atomic_write_text(path, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120))


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "yes" if v else "no"
    s = str(v).strip()
    return s or None


def read(path: Path, topics: TopicsFile | None = None) -> dict[str, TopicAnswers]:
    """The answers by topic; bad layout, unknown topics or items raise InputError naming file and line."""
    topics = topics or load_topics()
    path = Path(path)
    name = path.name
    raw: list[tuple[int, object, object, object]] = []
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise InputError(BAD_LAYOUT, file=name, detail=f"not a readable XLSX workbook ({exc})",
                             detail_zh=f"無法讀取之 XLSX 檔（{exc}）") from None
        ws = wb["attestation"] if "attestation" in wb.sheetnames else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        head = [str(c).strip().lower() if c is not None else "" for c in next(it, [])]
        if head[:4] != HEADER:
            raise InputError(BAD_LAYOUT, file=name, line=1, expected=", ".join(HEADER),
                             detail=f"header is {head[:4]}", detail_zh=f"表頭為 {head[:4]}")
        for n, row in enumerate(it, 2):
            row = list(row) + [None] * 4
            if all(c is None for c in row[:4]):
                continue
            raw.append((n, row[0], row[1], row[3]))
        wb.close()
    else:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(BAD_LAYOUT, file=name, detail=f"not valid UTF-8 YAML ({exc})",
                             detail_zh=f"非有效之 UTF-8 YAML（{exc}）") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_ID or not isinstance(doc.get("items"), list):
            raise InputError(BAD_LAYOUT, file=name, expected=f"format: {FORMAT_ID} and a list of items",
                             detail="not an attestation questionnaire", detail_zh="非聲明問卷格式")
        for n, it in enumerate(doc["items"], 1):
            if not isinstance(it, dict):
                raise InputError(BAD_LAYOUT, file=name, record=f"items[{n}]", expected="topic, item, answer",
                                 detail=f"item {n} is not a mapping", detail_zh=f"第 {n} 項不是對應表")
            raw.append((n, it.get("topic"), it.get("item"), it.get("answer")))
    out: dict[str, TopicAnswers] = {}
    for n, topic, item, answer in raw:
        topic, item = _cell(topic) or "", _cell(item) or ""
        try:
            t = topics.get(topic)
        except KeyError:
            raise InputError(UNKNOWN_TOPIC, file=name, line=n, field="topic", topic=topic) from None
        known = {q.id for q in t.questions} | {f"doc:{d.id}" for d in t.documents} | set(SIGN_OFF)
        if t.expiry:
            known.add("expiry")
        if item not in known:
            raise InputError(UNKNOWN_ITEM, file=name, line=n, field="item", expected=", ".join(sorted(known)),
                             topic=topic, item=item)
        ta = out.setdefault(topic, TopicAnswers(topic))
        ta.where[item] = n
        value = _cell(answer)
        if value is not None:
            ta.answers[item] = value
    return out


YES = {"yes", "y", "true", "是", "有", "v"}
NO = {"no", "n", "false", "否", "無"}


def _date(ta: TopicAnswers, item: str, file: str) -> dt.date | None:
    v = ta.answers.get(item)
    if v is None:
        return None
    try:
        return parse_date(v, field=item, file=file, line=ta.where.get(item))
    except ValueError:
        raise InputError(BAD_DATE, file=file, line=ta.where.get(item), field=item, expected="YYYY-MM-DD",
                         topic=ta.topic, item=item, value=v) from None


def judge(answers: dict[str, TopicAnswers], as_of: dt.date, *, base: Path, file: str,
          topics: TopicsFile | None = None) -> list[Check]:
    """One check per topic in the questionnaire: pass when every question is answered, every document is
    attached and present, nothing has expired, dated answers fall within the topic's interval, and a
    reviewer other than the preparer signed off; manual while incomplete; fail on what is wrong."""
    from ccinspect.catalog import load_catalog
    from ccinspect.checks.rules import load_rules

    topics = topics or load_topics()
    cat, served = load_catalog(), set(load_rules().ref_ids())
    checks = []
    for tid, ta in answers.items():
        t = topics.get(tid)
        wrong: list[Fact] = []
        missing: list[str] = []

        def fact(msg: str, item: str, tid: str = tid, ta: TopicAnswers = ta) -> Fact:
            return Fact(f"{tid}: {msg}", file=file, line=ta.where.get(item), subject=tid)

        for q in t.questions:
            a = ta.answers.get(q.id)
            if a is None:
                missing.append(q.id)
            elif q.kind == "yes_no":
                if a.lower() in NO:
                    wrong.append(fact(f"{q.id} answered no: {q.text_en}", q.id))
                elif a.lower() not in YES:
                    wrong.append(fact(f"{q.id}: expected yes or no, got {a!r}", q.id))
            elif q.kind == "date":
                d = _date(ta, q.id, file)
                if t.interval_months and d < months_before(as_of, t.interval_months):
                    wrong.append(fact(f"{q.id} dated {d}, more than {t.interval_months} months before {as_of}", q.id))
        for d in t.documents:
            a = ta.answers.get(f"doc:{d.id}")
            if a is None:
                missing.append(f"doc:{d.id}")
                continue
            for name in (x.strip() for x in a.split(";") if x.strip()):
                p = (base / name).resolve()
                if not p.is_relative_to(base.resolve()) or not p.is_file():
                    wrong.append(fact(f"document {d.id}: attached file {name!r} not found beside the questionnaire",
                                      f"doc:{d.id}"))
        if t.expiry:
            end = _date(ta, "expiry", file)
            if end is None:
                missing.append("expiry")
            elif end < as_of:
                wrong.append(fact(f"{t.expiry.text_en} {end} is before {as_of}: expired", "expiry"))
        for item in SIGN_OFF:
            if ta.answers.get(item) is None:
                missing.append(item)
        reviewed = _date(ta, "reviewed_on", file)
        if reviewed and reviewed > as_of:
            wrong.append(fact(f"reviewed on {reviewed}, after the as-of date {as_of}", "reviewed_on"))
        prep, rev = ta.answers.get("prepared_by"), ta.answers.get("reviewer")
        if prep and rev and prep.strip().casefold() == rev.strip().casefold():
            wrong.append(fact(f"reviewer {rev!r} is the preparer: sign-off needs someone else", "reviewer"))
        refs = t.requirement_ids(cat, served)
        if wrong:
            status, summary = Status.FAIL, f"{len(wrong)} finding(s) in the attestation"
        elif missing:
            status, summary = Status.MANUAL, f"incomplete: {', '.join(missing)} not answered"
        else:
            status, summary = Status.PASS, f"answered, documents attached, signed off by {rev}"
        checks.append(Check("attestation", tid, refs, status, summary, wrong, [file]))
    return checks
