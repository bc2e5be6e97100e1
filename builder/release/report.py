"""``claimwire report``: one self-contained HTML page to review a release by eye.

Everything is read from the release folder itself (the ``documents`` Parquet files carry the
per-annotator reliability data), and everything the page needs is inline: CSS, SVG plots, the
data as JSON and a small script that draws the annotated-article viewer. No network, no CDN, no
timestamp, so the same release always gives the same page. The page is written beside the
release (never inside it: a release is immutable and checksummed).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from ..contracts.labels import ATTRIBUTIONS, ENTITY_LABELS, LABEL_CONFIG, STANCES
from ..errors import Problem, UsageError
from ..quality.agreement import DocAgreement, fmt, summarize, tables
from . import reader

# (split, baseline, config) -> headline metrics: builder.benchmark.baselines.release_scores, which
# this layer cannot import (the benchmark reads releases); `claimwire report` passes them in.
BaselineScores = tuple[list[str], dict[tuple[str, str, str], dict[str, float]]]

STANCE_COLOURS = {"FAVOR": "#2e7d32", "AGAINST": "#c62828", "NEUTRAL": "#757575"}


def entity_colours() -> dict[str, str]:
    """Entity label colours, taken from the Label Studio labeling config so the report looks
    like the annotation tool."""
    root = ElementTree.fromstring(LABEL_CONFIG.read_text(encoding="utf-8"))
    out = {}
    for labels in root.iter("Labels"):
        if labels.get("name") == "entity":
            for lab in labels.iter("Label"):
                out[lab.get("value", "")] = lab.get("background", "#cccccc")
    return out


def read_release(release: Path) -> list[tuple[str, dict[str, Any]]]:
    """(split, row) for every ``documents`` row of a release, in split then id order."""
    if not (release / "checksums.tsv").is_file():
        raise UsageError(
            Problem(
                "not a release folder (no checksums.tsv)",
                file=str(release),
                fix="pass a folder like dist/claimwire-0.1.0 (build it with "
                "`make build` or `claimwire build`)",
            )
        )
    if not reader.files(release, "documents"):
        raise UsageError(
            Problem(
                "the release has no documents files",
                file=str(release),
                expected="data/documents/<split>-00000-of-00001.parquet",
            )
        )
    by_split: dict[str, list[dict[str, Any]]] = {}
    for split, row in reader.documents(release):
        by_split.setdefault(split, []).append(row)
    order = sorted(by_split, key=lambda n: (reader.SPLIT_ORDER.get(n, 3), n))
    return [(split, r) for split in order for r in sorted(by_split[split], key=lambda r: r["id"])]


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def bar_chart(title: str, items: list[tuple[str, int]], colours: dict[str, str]) -> str:
    """A horizontal bar chart as inline SVG."""
    width, bar, gap, label_w = 420, 18, 6, 110
    top = max([v for _, v in items] + [1])
    height = len(items) * (bar + gap) + 10
    parts = [
        f'<figure class="chart"><figcaption>{_e(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(title)}">'
    ]
    for i, (name, value) in enumerate(items):
        y = i * (bar + gap) + 5
        w = int((width - label_w - 50) * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar - 5}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" '
            f'fill="{colours.get(name, "#5c6bc0")}"><title>{_e(name)}: {value}</title></rect>'
            f'<text x="{label_w + w + 4}" y="{y + bar - 5}">{value}</text>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def _json_script(value: Any, element_id: str) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def baseline_html(baselines: BaselineScores | None) -> str:
    """The baseline table (the card's figures, in percent), or how to get it."""
    if baselines is None:
        return (
            "<p>Not computed for this page: <code>claimwire report</code> scores the baselines "
            "on the release; <code>claimwire baseline rules</code> writes their predictions.</p>"
        )
    scored, scores = baselines
    if not scores:
        return "<p>No split holds articles: nothing to score.</p>"
    columns = list(dict.fromkeys((c, m) for (_, _, c), metrics in scores.items() for m in metrics))
    header = ["split", "baseline", *(f"{c}: {m}" for c, m in columns)]
    rows = [
        [
            split,
            name,
            *(
                f"{100 * scores[(split, name, c)][m]:.1f}" if (split, name, c) in scores else "–"
                for c, m in columns
            ),
        ]
        for split in scored
        for name in sorted({n for s, n, _ in scores if s == split})
    ]
    note = (
        "<p>Scored on the test split by the official scorer (<code>claimwire evaluate</code>); "
        "the majority baseline reads its counts from train when the release has it.</p>"
        if scored == ["test"]
        else f"<p>This release has no test articles, so the baselines are scored on "
        f"{_e(', '.join(scored))}: these are not held-out estimates.</p>"
    )
    return note + _table(header, rows, "baselines")


def render(
    release: Path, rows: list[tuple[str, dict[str, Any]]], baselines: BaselineScores | None = None
) -> str:
    """The report page for the rows of ``release``; ``baselines`` from
    :func:`builder.benchmark.baselines.release_scores`."""
    colours = entity_colours()
    splits = list(dict.fromkeys(s for s, _ in rows))
    count_rows = []
    label_rows = []
    for split in splits:
        docs = [r for s, r in rows if s == split]
        ents = Counter(e["label"] for d in docs for e in d["entities"])
        claims = [c for d in docs for c in d["claims"]]
        count_rows.append([split, str(len(docs)), str(sum(ents.values())), str(len(claims))])
        stances = Counter(c["stance"] for c in claims)
        attributions = Counter(c["attribution"] for c in claims)
        label_rows.append(
            [
                split,
                *(str(ents[lab]) for lab in ENTITY_LABELS),
                *(str(stances[s]) for s in STANCES),
                *(str(attributions[a]) for a in ATTRIBUTIONS),
            ]
        )
    all_docs = [r for _, r in rows]
    ent_all = Counter(e["label"] for d in all_docs for e in d["entities"])
    st_all = Counter(c["stance"] for d in all_docs for c in d["claims"])
    at_all = Counter(c["attribution"] for d in all_docs for c in d["claims"])
    decided = Counter(x["decided_by"] for d in all_docs for x in [*d["entities"], *d["claims"]])
    charts = "".join(
        [
            bar_chart(
                "Entity mentions by label", [(lab, ent_all[lab]) for lab in ENTITY_LABELS], colours
            ),
            bar_chart("Claims by stance", [(s, st_all[s]) for s in STANCES], STANCE_COLOURS),
            bar_chart("Claims by attribution", [(a, at_all[a]) for a in ATTRIBUTIONS], {}),
            bar_chart("Regions by how adjudication decided them", sorted(decided.items()), {}),
        ]
    )
    summary = summarize(DocAgreement.from_row(r) for r in all_docs)
    if summary.multi:
        agreement_html = "".join(
            f"<h3>{_e(t)}</h3>" + _table(h, r) for t, h, r in tables(summary, lowest=10) if r
        )
    else:
        agreement_html = (
            "<p>No article of this release has two or more independent "
            "annotations, so there is no agreement to show.</p>"
        )
    lowest = (
        "".join(
            f'<li><a href="#doc-{_e(r["id"])}">{_e(r["id"])}</a> — agreement '
            f"{_e(fmt(r['agreement']))}</li>"
            for r in summary.by_article[:10]
        )
        or "<li>none measured</li>"
    )
    data = [
        {
            "id": r["id"],
            "split": s,
            "title": r["title"],
            "source": r["source"],
            "text": r["text"],
            "entities": r["entities"],
            "claims": r["claims"],
            "adjudication": r["annotation"]["adjudication"],
            "n_annotators": r["annotation"]["n_annotators"],
            "agreement": r["annotation"]["agreement"],
        }
        for s, r in rows
    ]
    legend = "".join(
        f'<span class="ent" style="background:{_e(colours.get(lab, "#ccc"))}">{_e(lab)}</span> '
        for lab in ENTITY_LABELS
    )
    label_css = "".join(
        f".ent-{lab}{{background:{col}33;box-shadow:inset 0 -2px {col}}}"
        for lab, col in colours.items()
    )
    name = release.resolve().name
    return PAGE.format(
        name=_e(name),
        label_css=label_css,
        counts=_table(["split", "documents", "entity mentions", "claims"], count_rows),
        labels=_table(["split", *ENTITY_LABELS, *STANCES, *ATTRIBUTIONS], label_rows, "wide"),
        charts=charts,
        agreement=agreement_html,
        baselines=baseline_html(baselines),
        lowest=lowest,
        legend=legend,
        data=_json_script(data, "claimwire-data"),
        colours=_json_script(colours, "claimwire-colours"),
        script=SCRIPT,
    )


def default_output(release: Path) -> Path:
    return release.resolve().parent / f"{release.resolve().name}.report.html"


def write_report(
    release: Path, out: Path | None = None, baselines: BaselineScores | None = None
) -> Path:
    """Write the report of ``release`` (default: ``<release>.report.html`` beside it), with the
    baseline scores when given (:func:`builder.benchmark.baselines.release_scores`)."""
    out = out or default_output(release)
    if out.resolve().is_relative_to(release.resolve()):
        raise UsageError(
            Problem(
                "the report cannot go inside the release folder",
                file=str(out),
                fix="a release is immutable and checksummed; write the report "
                "beside it (the default) or elsewhere with --out",
            )
        )
    page = render(release, read_release(release), baselines)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{name}: quality report</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px;color:#222}}
table{{border-collapse:collapse;margin:6px 0 14px}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}
th{{background:#f2f2f2}}.wide td,.wide th{{font-size:12px}}
.chart{{display:inline-block;margin:4px 16px 4px 0}}.chart text{{font-size:12px}}
figcaption{{font-weight:600}}
.article{{display:flex;gap:16px;border-top:2px solid #999;padding:10px 0}}
.text{{flex:3;white-space:pre-wrap;line-height:1.9}}.panel{{flex:2;font-size:13px;position:sticky;top:0;align-self:flex-start;max-height:100vh;overflow:auto}}
.ent{{border-radius:2px;padding:0 1px}}{label_css}
.claim{{text-decoration:underline 2px #1565c0;text-underline-offset:3px;cursor:pointer}}
.hl{{outline:2px solid #ff6f00}}.role-claimer{{outline:2px dashed #6a1b9a}}.role-target{{outline:2px dotted #00838f}}
.panel li{{margin-bottom:4px}}.panel li.active{{background:#fff3e0}}
.stance-FAVOR{{color:#2e7d32}}.stance-AGAINST{{color:#c62828}}.stance-NEUTRAL{{color:#616161}}
.detail{{border:1px solid #ddd;padding:6px;margin-bottom:8px;min-height:3em;background:#fafafa}}
</style></head>
<body data-rendered="no">
<h1>{name}: quality report</h1>
<p>Generated from the release files alone; self-contained (no network). Offsets are code points
into each article's text.</p>
<h2>Counts per split</h2>{counts}
<h2>Labels per split</h2>{labels}
<h2>Label distributions</h2>{charts}
<h2>Baselines</h2>{baselines}
<h2>Agreement</h2>{agreement}
<h2>Articles with the lowest agreement</h2><ul>{lowest}</ul>
<h2>Annotated articles</h2>
<p>Entity mentions are coloured by type: {legend}; claims are underlined. Hover or click a claim
to see its claimer, target(s) and stance in the side panel (claimer: dashed outline, targets:
dotted outline).</p>
<div id="viewer"></div>
{data}{colours}
<script>{script}</script>
</body></html>
"""

SCRIPT = r"""
(function () {
  "use strict";
  var docs = JSON.parse(document.getElementById("claimwire-data").textContent);
  var viewer = document.getElementById("viewer");
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function claimInfo(c, ents) {
    var claimer = c.claimer_id && ents[c.claimer_id] ? ents[c.claimer_id].text : "(none: the outlet)";
    var targets = c.target_ids.map(function (t) { return ents[t] ? ents[t].text : t; });
    return {claimer: claimer, targets: targets.length ? targets.join(", ") : "(none)"};
  }
  docs.forEach(function (doc) {
    var ents = {}, claims = {};
    doc.entities.forEach(function (e) { ents[e.id] = e; });
    doc.claims.forEach(function (c) { claims[c.id] = c; });
    var box = el("section", "article");
    box.id = "doc-" + doc.id;
    box.dataset.doc = doc.id;
    var textBox = el("div", "text");
    var panel = el("div", "panel");
    panel.appendChild(el("h3", "", doc.title));
    panel.appendChild(el("p", "", doc.id + " · " + doc.split + " · " + doc.source + " · " +
      doc.n_annotators + " annotator(s) · adjudication " + doc.adjudication + " · agreement " +
      (doc.agreement === null ? "n/a" : doc.agreement.toFixed(3))));
    var detail = el("div", "detail", "Hover or click a claim.");
    panel.appendChild(detail);
    var list = el("ol", "claims");
    panel.appendChild(list);
    var cuts = {0: true};
    cuts[doc.text.length] = true;
    doc.entities.concat(doc.claims).forEach(function (r) { cuts[r.start] = true; cuts[r.end] = true; });
    var points = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; });
    for (var i = 0; i + 1 < points.length; i++) {
      var s = points[i], e = points[i + 1];
      var text = doc.text.slice(s, e);
      var inE = doc.entities.filter(function (x) { return x.start <= s && x.end >= e; });
      var inC = doc.claims.filter(function (x) { return x.start <= s && x.end >= e; });
      if (!inE.length && !inC.length) { textBox.appendChild(document.createTextNode(text)); continue; }
      var seg = el("span", "seg", text);
      var tips = [];
      if (inE.length) {
        seg.classList.add("ent", "ent-" + inE[0].label);
        seg.dataset.ent = inE.map(function (x) { return x.id; }).join(" ");
        inE.forEach(function (x) { tips.push(x.label + (x.portrayal ? " (" + x.portrayal + ")" : "") + " · " + x.decided_by); });
      }
      if (inC.length) {
        seg.classList.add("claim");
        seg.dataset.claim = inC.map(function (x) { return x.id; }).join(" ");
        inC.forEach(function (c) {
          var info = claimInfo(c, ents);
          tips.push("claim " + c.id + ": " + c.stance + " · claimer " + info.claimer + " · target(s) " + info.targets);
        });
      }
      seg.title = tips.join("\n");
      textBox.appendChild(seg);
    }
    function show(c, on) {
      textBox.querySelectorAll(".hl,.role-claimer,.role-target").forEach(function (n) {
        n.classList.remove("hl", "role-claimer", "role-target");
      });
      list.querySelectorAll("li.active").forEach(function (n) { n.classList.remove("active"); });
      if (!on) return;
      var info = claimInfo(c, ents);
      detail.innerHTML = "";
      detail.appendChild(el("div", "", "“" + c.text + "”"));
      detail.appendChild(el("div", "", "claimer: " + info.claimer + " (" + c.attribution + ")"));
      detail.appendChild(el("div", "", "target(s): " + info.targets));
      detail.appendChild(el("div", "stance-" + c.stance, "stance: " + c.stance));
      detail.appendChild(el("div", "", "decided by: " + c.decided_by));
      textBox.querySelectorAll("[data-claim~='" + c.id + "']").forEach(function (n) { n.classList.add("hl"); });
      if (c.claimer_id) textBox.querySelectorAll("[data-ent~='" + c.claimer_id + "']").forEach(function (n) { n.classList.add("role-claimer"); });
      c.target_ids.forEach(function (t) { textBox.querySelectorAll("[data-ent~='" + t + "']").forEach(function (n) { n.classList.add("role-target"); }); });
      var item = list.querySelector("[data-claim-item='" + c.id + "']");
      if (item) item.classList.add("active");
    }
    doc.claims.forEach(function (c) {
      var info = claimInfo(c, ents);
      var li = el("li", "");
      li.dataset.claimItem = c.id;
      li.appendChild(el("span", "", c.text.length > 90 ? c.text.slice(0, 88) + "…" : c.text));
      li.appendChild(el("span", "stance-" + c.stance, " [" + c.stance + "] "));
      li.appendChild(el("span", "", "claimer: " + info.claimer + "; target(s): " + info.targets));
      li.addEventListener("mouseenter", function () { show(c, true); });
      list.appendChild(li);
    });
    textBox.addEventListener("mouseover", function (ev) {
      var n = ev.target.closest ? ev.target.closest("[data-claim]") : null;
      if (n) show(claims[n.dataset.claim.split(" ")[0]], true);
    });
    textBox.addEventListener("click", function (ev) {
      var n = ev.target.closest ? ev.target.closest("[data-claim]") : null;
      if (n) show(claims[n.dataset.claim.split(" ")[0]], true);
    });
    box.appendChild(textBox);
    box.appendChild(panel);
    viewer.appendChild(box);
    // Self-check, read by the browser test: is every region drawn, visible, with its own text?
    var check = {entities: 0, claims: 0, wrong: []};
    function verify(kind, r) {
      var attr = kind === "entities" ? "ent" : "claim";
      var parts = Array.prototype.filter.call(textBox.querySelectorAll("[data-" + attr + "]"), function (n) {
        return n.dataset[attr].split(" ").indexOf(r.id) >= 0;
      });
      var drawn = parts.map(function (n) { return n.textContent; }).join("");
      var visible = parts.length > 0 && parts.every(function (n) { return n.getClientRects().length > 0; });
      if (drawn === r.text && visible) check[kind]++; else check.wrong.push(r.id);
    }
    doc.entities.forEach(function (r) { verify("entities", r); });
    doc.claims.forEach(function (r) { verify("claims", r); });
    box.dataset.check = JSON.stringify(check);
  });
  document.body.dataset.rendered = "yes";
})();
"""
