"""Documents an organiser sends on or files. The evaluation report
(docs/evaluation.md): PDF (WeasyPrint, from the page's own HTML), Word
(python-docx, with the page's pictures drawn as PNG by CairoSVG), Markdown and
CSV (the figures, :mod:`matcher.evaluation`'s); every one carries the method
and no names. A café's lessons-learnt record (docs/harvest.md): the same four
kinds, from :func:`matcher.harvest.harvest`, hidden and merged notes left out."""

from __future__ import annotations

import io
import re

from flask import Response, render_template

from matcher.evaluation import (
    Evaluation,
    evaluation_csv,
    evaluation_markdown,
    figure_rows,
    mean_text,
    network_rows,
    percent,
)
from matcher.harvest import harvest_csv, harvest_markdown, record_date
from matcher.times import utc_now
from web.charts import network_view, useful_view

__all__ = ["DOCUMENT_TYPES", "LABELS", "RECORD_LABELS", "harvest_download", "report_context",
           "report_download", "report_docx", "report_pdf"]

#: The documents, as the URL names them, with their media types.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
#: What the page calls each download.
LABELS = {"pdf": "PDF", "docx": "Word (.docx)", "md": "Markdown", "csv": "the figures (CSV)"}
#: What the harvest page calls each download of the record.
RECORD_LABELS = LABELS | {"csv": "CSV"}


def pictures(e: Evaluation) -> dict[str, dict[str, object]]:
    """The report's pictures (web.charts layouts): before and after on one scale."""
    largest = max((t.ties for t in (*e.before.links, *e.after.links)), default=1)
    return {"before": network_view(e.before, "The department network before", largest,
                                   "before"),
            "after": network_view(e.after, "The department network after", largest, "after"),
            "useful": useful_view(e.useful_counts)}


def report_context(e: Evaluation) -> dict[str, object]:
    """What ``organiser/_evaluation_report.html`` needs."""
    return {"e": e, "pictures": pictures(e), "figures": figure_rows(e),
            "network_rows": network_rows(e), "percent": percent, "mean_text": mean_text,
            "made": utc_now()}


def _stem(e: Evaluation) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", e.name.lower()).strip("-")[:40] or "trial"
    return f"evaluation-{e.trial_id}-{name}"


def report_pdf(e: Evaluation) -> bytes:
    """The report as PDF, from the same HTML as the page (nothing fetched)."""
    from weasyprint import HTML  # here: it adds a second and a half to every server's start

    html = render_template("organiser/evaluation_document.html", **report_context(e))
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def _no_fetching(url: str, *args, **kwargs):
    raise ValueError(f"the report loads nothing from elsewhere ({url[:40]})")


def _png(template_macro: str, view: dict[str, object]) -> io.BytesIO:
    """One picture of the page, as PNG (twice its size, for print)."""
    import cairosvg  # here, as WeasyPrint (report_pdf)

    macros = render_template("organiser/evaluation_picture.svg", macro=template_macro, c=view)
    return io.BytesIO(cairosvg.svg2png(bytestring=macros.encode(), scale=2))


def _table(document, header: list[str], rows: list[list[object]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Light List Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)


def report_docx(e: Evaluation) -> bytes:
    """The report as a Word document: the same sections as the page and the PDF."""
    from docx import Document  # here, as WeasyPrint (report_pdf)
    from docx.shared import Inches, Pt

    views = pictures(e)
    document = Document()
    document.core_properties.title = f"Evaluation: {e.name}"
    document.core_properties.author = "matcher"
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(f"Evaluation: {e.name}", level=0)
    document.add_paragraph(f"Period: {e.period.describe()} — {e.rounds} round"
                           f"{'s' if e.rounds != 1 else ''}. Made by matcher on "
                           f"{utc_now():%-d %B %Y}.")
    document.add_heading("Figures", level=1)
    _table(document, ["Measure", "Value", "Answers behind it"],
           [list(row) for row in figure_rows(e)])
    document.add_heading("How useful people found it", level=1)
    document.add_picture(_png("useful", views["useful"]), width=Inches(5.5))
    document.add_paragraph(str(views["useful"]["desc"]))
    document.add_heading("Per round", level=1)
    _table(document, ["Round", "Published", "Groups", "Introduced", "Answers", "Met",
                      "Useful (mean)", "New ties"],
           [[r.round, f"{r.published_at:%-d %b %Y}", r.groups, r.introduced, r.responses,
             percent(r.met_share), mean_text(r.useful_mean), r.new_ties]
            for r in e.per_round])
    document.add_heading("The network before and after", level=1)
    document.add_paragraph(
        f"Who had met whom among this period's {e.after.people} participants before its "
        "first round and after its last (other trials and cafés count too). Each circle "
        "is a department, sized by its people; a line joins two departments whose people "
        "have met, thicker for more pairs.")
    for moment in ("before", "after"):
        document.add_picture(_png("network", views[moment]), width=Inches(3.6))
        document.add_paragraph(f"{moment.capitalize()}: {views[moment]['desc']}")
    _table(document, ["Measure", "Before", "After"], [list(row) for row in network_rows(e)])
    document.add_heading("What people learnt", level=1)
    if e.quotes:
        for quote in e.quotes:
            document.add_paragraph(quote, style="Quote")
    else:
        document.add_paragraph("No quotes shared yet.")
    document.add_heading("How the figures were computed", level=1)
    for sentence in e.method:
        document.add_paragraph(sentence, style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def poster_pdf(trial, join_url: str, qr: str) -> Response:
    """A trial's A4 poster for a noticeboard: its name, what it is, and the join
    link as a QR code and as text (nothing fetched)."""
    from weasyprint import HTML  # here, as in report_pdf

    html = render_template("organiser/poster_document.html", trial=trial, join_url=join_url,
                           qr=qr)
    name = re.sub(r"[^a-z0-9]+", "-", trial.name.lower()).strip("-")[:40] or "trial"
    return _download({"pdf": lambda: HTML(string=html, url_fetcher=_no_fetching).write_pdf()},
                     f"poster-{trial.id}-{name}", "pdf")


def _download(makers: dict[str, object], stem: str, kind: str) -> Response:
    """The document ``makers[kind]()`` makes, as a download named ``stem.kind``."""
    return Response(makers[kind](), content_type=DOCUMENT_TYPES[kind], headers={
        "Content-Disposition": f'attachment; filename="{stem}.{kind}"'})


def report_download(e: Evaluation, kind: str) -> Response:
    """The report as a download of ``kind`` (one of :data:`DOCUMENT_TYPES`)."""
    return _download({"pdf": lambda: report_pdf(e), "docx": lambda: report_docx(e),
                      "md": lambda: evaluation_markdown(e), "csv": lambda: evaluation_csv(e)},
                     _stem(e), kind)


def _record_stem(record: dict[str, object]) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", str(record["name"]).lower()).strip("-")[:40] or "cafe"
    return f"harvest-{record['cafe']}-{name}"


def harvest_pdf(record: dict[str, object]) -> bytes:
    """The record as PDF, from the same HTML as the harvest page (nothing fetched)."""
    from weasyprint import HTML  # here, as in report_pdf

    html = render_template("organiser/harvest_document.html", record=record, made=utc_now(),
                           date=record_date(record))
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def harvest_docx(record: dict[str, object]) -> bytes:
    """The record as a Word document: the grid (review formats), every round's
    notes by table with their votes, and the pledges."""
    from docx import Document  # here, as in report_pdf
    from docx.shared import Pt

    document = Document()
    title = _xml(f"Lessons learnt: {record['name']}")
    document.core_properties.title = title
    document.core_properties.author = "matcher"
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(title, level=0)
    document.add_paragraph(f"{record['format_name']}, {record_date(record)}. "
                           + ("Notes are anonymous. " if record["anonymous_notes"] else "")
                           + f"Made by matcher on {utc_now():%-d %B %Y}; notes are listed "
                           "most voted first.")
    if record["grid"]:
        document.add_heading("The grid", level=1)
        for column in record["grid"]:
            document.add_heading(_xml(f"{column['heading']}: {column['question']}"), level=2)
            _notes(document, column["notes"])
    document.add_heading("Round by round", level=1)
    for one in record["rounds"]:
        document.add_heading(_xml(f"Round {one['round']}" + (
            f": {one['question']}" if one["question"] else "")), level=2)
        for table in one["tables"]:
            document.add_heading(f"Table {table['table']}", level=3)
            _notes(document, table["notes"])
    document.add_heading("Pledges", level=1)
    if not record["pledges"]:
        document.add_paragraph("No pledges.")
    for pledge in record["pledges"]:
        document.add_paragraph(_xml(pledge["text"] + (f" ({pledge['author']})"
                                                      if pledge.get("author") else "")),
                               style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


#: What XML 1.0 cannot hold (so neither can a Word document): control characters
#: but tab and line breaks, surrogates, U+FFFE and U+FFFF. New text is refused
#: with them (matcher.validation); older text loses them here rather than the
#: whole document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def _notes(document, notes: list[dict[str, object]]) -> None:
    if not notes:
        document.add_paragraph("No notes.")
    for note in notes:
        votes = note["votes"]
        extra = f"{votes} vote{'s' if votes != 1 else ''}"
        if note.get("author"):
            extra += f"; {note['author']}"
        document.add_paragraph(_xml(f"{note['text']} ({extra})"), style="List Bullet")


def harvest_download(record: dict[str, object], kind: str) -> Response:
    """The lessons-learnt record as a download of ``kind`` (one of :data:`DOCUMENT_TYPES`)."""
    return _download({"pdf": lambda: harvest_pdf(record), "docx": lambda: harvest_docx(record),
                      "md": lambda: harvest_markdown(record),
                      "csv": lambda: harvest_csv(record)}, _record_stem(record), kind)
