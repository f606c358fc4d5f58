"""One self-contained HTML page of the leaderboard: a board per benchmark and task, sortable columns,
ranks, intervals as error bars, a per-joint breakdown on click, PCKh curves (inline SVG) on MPII boards
and provenance on hover. No network access: no external script, font, style or image."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape

from ..results.board import PAPER, Board, Row
from ..results.ties import HOVER_MAX, leader_groups
from ..version import __version__
from .leaderboard import (
    NOTE_MARK,
    TIES_COLUMN,
    ci_text,
    delta_text,
    has_ties,
    interval_notes,
    short_source,
    single_item,
    tie_cell,
    ties_note,
)

DAGGER = "\u2020"
#: curves drawn on a board's figure (its legend holds as many lines as the plot is high)
MAX_CURVES = 18
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1500px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 2px}
.scroll{overflow-x:auto}
.sub,.foot{color:#5a6270;font-size:12.5px;margin:2px 0 8px}
.ci-note{color:#b5530b;font-weight:600;cursor:help}
nav a{margin-right:14px;color:#1f5fbf;text-decoration:none}nav a:hover{text-decoration:underline}
table.lb{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
table.lb th{position:sticky;top:0;background:#f3f5f9;text-align:right;padding:6px 5px;border-bottom:2px solid #c9d0dc;
white-space:nowrap;cursor:pointer;user-select:none}
table.lb th.l,table.lb td.l{text-align:left}
table.lb th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
table.lb th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
table.lb td{padding:5px 5px;border-bottom:1px solid #e6e9ef;text-align:right;white-space:nowrap}
tr.row{cursor:pointer}tr.row:hover{background:#f6f9ff}tr.row.open{background:#eef4ff}
tr.quoted td{color:#5a6270}
table.lb td.source{font-size:12.5px;color:#5a6270;line-height:1.25}
td.rank{font-weight:600;color:#1d2330}
.src{display:inline-block;font-size:11px;padding:1px 6px;border-radius:9px;margin-left:6px;vertical-align:1px}
.src.quoted{background:#f1f1f1;color:#666}.src.recomputed{background:#e3f1e6;color:#23692f}
.src.user{background:#e6eefc;color:#1f4fa8}
td.bar svg{vertical-align:middle}
tr.detail td{background:#fafbfd;text-align:left;white-space:normal;padding:10px 16px}
table.joints{border-collapse:collapse;font-size:12.5px}table.joints td{border:none;padding:1px 8px;text-align:left}
table.joints td.v{text-align:right}
.prov{font-size:12px;color:#5a6270;margin-top:8px;word-break:break-all}
figure{margin:14px 0}figcaption{font-size:12.5px;color:#5a6270}
table.lb td.name{white-space:normal;max-width:260px;overflow-wrap:anywhere;text-align:left}
table.lb td.source{white-space:normal;max-width:170px;overflow-wrap:anywhere}
table.lb td.ties{min-width:128px;font-size:12.5px;color:#5a6270}
table.lb td.ties.pair{color:#1d2330}
table.lb td.ties.pair.tie{color:#23692f;font-weight:600}table.lb td.ties.self{color:#1f5fbf;font-style:italic}
td.rank.tg0{box-shadow:inset 4px 0 0 #7aa0e0}td.rank.tg1{box-shadow:inset 4px 0 0 #e0a04a}
.tools{display:flex;gap:12px;align-items:center;margin:4px 0 6px;font-size:12.5px;color:#5a6270}
.tools input{font:inherit;padding:3px 8px;border:1px solid #c9d0dc;border-radius:4px;width:260px}
"""

SCRIPT = """
(function(){
function key(td){if(!td)return null;var v=td.getAttribute('data-v');if(v!==null){if(v==='')return null;
 return parseFloat(v);}var t=td.textContent.trim();return t===''?null:t.toLowerCase();}
function sortTable(table,th){
 var ths=Array.prototype.slice.call(th.parentNode.children);var idx=ths.indexOf(th);
 var cur=th.getAttribute('aria-sort');var first=th.getAttribute('data-first')||'descending';
 var dir=cur?(cur==='ascending'?'descending':'ascending'):first;
 ths.forEach(function(h){h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',dir);
 var body=table.tBodies[0];var pairs=[];
 Array.prototype.forEach.call(body.querySelectorAll('tr.row'),function(r){pairs.push([r,r.nextElementSibling]);});
 pairs.sort(function(a,b){var x=key(a[0].children[idx]),y=key(b[0].children[idx]);
  if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
  var c=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));
  return dir==='ascending'?c:-c;});
 pairs.forEach(function(p){body.appendChild(p[0]);if(p[1])body.appendChild(p[1]);});
}
function fmt(v){return (v<0?'\u2212':'+')+Math.abs(v).toFixed(2);}
function pairOf(g,a,b){var s=1,i=a,j=b;if(a>b){i=b;j=a;s=-1;}var k=g.k,x=i*k-i*(i+1)/2+(j-i-1);
 var d=g.d[x],lo=g.lo[x],hi=g.hi[x];if(lo===null||hi===null)return{d:s*d,lo:null,hi:null,p:null};
 return s>0?{d:d,lo:lo,hi:hi,p:g.p[x]}:{d:-d,lo:-hi,hi:-lo,p:g.p[x]};}
function pairs(table){var el=document.getElementById(table.id.replace(/-table$/,'-pairs'));
 return el?JSON.parse(el.textContent):null;}
function showPairs(table,groups,tr){var g=tr.getAttribute('data-g');if(g===null)return;var grp=groups[+g];
 if(!grp)return;
 var a=+tr.getAttribute('data-p');var th=table.querySelector('th.ties');
 if(th){th.setAttribute('data-label',th.getAttribute('data-label')||th.textContent);
  th.textContent='\u0394 vs. '+tr.getAttribute('data-name');}
 Array.prototype.forEach.call(table.querySelectorAll('tr.row'),function(r){var c=r.querySelector('td.ties');
  if(!c)return;if(c.getAttribute('data-orig')===null)c.setAttribute('data-orig',c.textContent);
  c.classList.remove('pair','tie','sep','self');
  if(r===tr){c.textContent='this row';c.classList.add('self');c.title='';return;}
  if(r.getAttribute('data-g')!==g){c.textContent='';c.title='not paired with it';return;}
  var q=pairOf(grp,+r.getAttribute('data-p'),a);c.classList.add('pair');
  if(q.lo===null){c.textContent=fmt(q.d);c.title='no interval';return;}
  var tie=q.lo<=0&&q.hi>=0;c.classList.add(tie?'tie':'sep');
  c.textContent=fmt(q.d)+' ['+fmt(q.lo)+', '+fmt(q.hi)+']'+(tie?' tied':'');
  c.title=r.getAttribute('data-name')+' \u2212 '+tr.getAttribute('data-name')+': paired 95% interval ['+fmt(q.lo)+
   ', '+fmt(q.hi)+'], p = '+(q.p===null?'':q.p.toFixed(3));});}
function clearPairs(table){var th=table.querySelector('th.ties');if(th&&th.getAttribute('data-label'))
 th.textContent=th.getAttribute('data-label');
 Array.prototype.forEach.call(table.querySelectorAll('td.ties'),function(c){var o=c.getAttribute('data-orig');
  if(o!==null){c.textContent=o;c.removeAttribute('data-orig');}c.classList.remove('pair','tie','sep','self');
  c.title='';});}
Array.prototype.forEach.call(document.querySelectorAll('input.filter'),function(box){
 var table=document.getElementById(box.getAttribute('data-table'));var count=box.nextElementSibling;
 box.addEventListener('input',function(){var q=box.value.trim().toLowerCase();var n=0,all=0;
  Array.prototype.forEach.call(table.querySelectorAll('tr.row'),function(r){all++;
   var show=q===''||r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!show;if(show)n++;
   var d=r.nextElementSibling;if(d&&d.classList.contains('detail')&&!show){d.hidden=true;r.classList.remove('open');}});
  count.textContent=q===''?'':n+' of '+all+' rows';});});
Array.prototype.forEach.call(document.querySelectorAll('table.lb'),function(table){
 var groups=pairs(table);
 if(groups){Array.prototype.forEach.call(table.querySelectorAll('tr.row'),function(tr){
  tr.addEventListener('mouseenter',function(){showPairs(table,groups,tr);});});
  table.tBodies[0].addEventListener('mouseleave',function(){clearPairs(table);});}
 Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
  th.addEventListener('click',function(){sortTable(table,th);});});
 Array.prototype.forEach.call(table.querySelectorAll('tr.row'),function(tr){
  tr.addEventListener('click',function(){var d=tr.nextElementSibling;if(d&&d.classList.contains('detail')){
   d.hidden=!d.hidden;tr.classList.toggle('open',!d.hidden);}});});
});
})();
"""


def _num(v) -> str:
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else repr(float(v))


def _fmt(r: Row, v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return f"{v:.1f}{DAGGER}" if r.source == "quoted" else f"{v:.2f}"


def _provenance_text(r: Row) -> str:
    p = r.provenance
    if r.source == "quoted":
        return f"{p['quoted_from']}\nmethod: {p['citation']}\nvariant: {p['variant']}"
    lines = [r.note]
    for k, v in p.get("inputs", {}).items():
        lines.append(f"{k}: {v['file']} (sha256 {v['sha256']})")
    if p.get("options"):
        lines.append("options: " + ", ".join(f"{k}={v}" for k, v in p["options"].items() if v is not None))
    for k in ("command", "prt_version", "created", "file"):
        if p.get(k):
            lines.append(f"{k}: {p[k]}")
    return "\n".join(lines)


def _scale(board: Board) -> tuple[float, float]:
    vals = []
    for r in board.rows:
        vals += [v for v in ([r.value] + (r.ci95 or [])) if v is not None and math.isfinite(v)]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.05, 0.5)
    return lo - pad, hi + pad


def _error_bar(r: Row, lo: float, hi: float, width: int = 90, height: int = 14) -> str:
    if r.value is None or not math.isfinite(r.value):
        return ""

    def x(v: float) -> float:
        return 4 + (width - 8) * (v - lo) / (hi - lo)

    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(r.name)}: {r.value:.2f}">',
             f'<line x1="4" y1="{height / 2}" x2="{width - 4}" y2="{height / 2}" stroke="#e3e6ec"/>']
    if r.ci95:
        a, b = x(r.ci95[0]), x(r.ci95[1])
        parts.append(f'<line class="ci" x1="{a:.1f}" y1="{height / 2}" x2="{b:.1f}" y2="{height / 2}" '
                     'stroke="#3b6fd0" stroke-width="2"/>')
        for e in (a, b):
            parts.append(f'<line x1="{e:.1f}" y1="3" x2="{e:.1f}" y2="{height - 3}" stroke="#3b6fd0" '
                         'stroke-width="1.5"/>')
    fill = "#fff" if r.source == "quoted" else "#1d2330"
    parts.append(f'<circle cx="{x(r.value):.1f}" cy="{height / 2}" r="3.5" fill="{fill}" stroke="#1d2330"/>')
    parts.append("</svg>")
    return "".join(parts)


def _joint_detail(r: Row, board: Board) -> str:
    if not r.joints:
        why = "the paper publishes no per-joint numbers" if r.source == "quoted" else "no per-joint numbers"
        body = f"<p>{escape(why)}.</p>"
    else:
        cells = []
        top = max(r.joints.values()) if r.joints else 100.0
        for name, v in r.joints.items():
            w = 0 if not math.isfinite(v) else max(0.0, min(1.0, v / max(top, 100.0))) * 120
            cells.append(f'<tr><td>{escape(name.replace("_", " "))}</td><td class="v">{v:.2f}</td>'
                         f'<td><svg width="124" height="10"><rect x="0" y="1" width="{w:.1f}" height="8" '
                         f'fill="#6d93dd"/></svg></td></tr>')
        body = (f"<strong>{escape(board.metric)} per joint</strong> ({escape(r.name)})"
                f'<table class="joints">{"".join(cells)}</table>')
    prov = escape(_provenance_text(r)).replace("\n", "<br>")
    return body + f'<div class="prov">{prov}</div>'


def _note_mark(r: Row) -> str:
    """The interval's shape note: a mark whose hover (and the board's footnote) says why it is wide."""
    if not (r.ci95 and r.ci95_note):
        return ""
    return f' <span class="ci-note" title="{escape(r.ci95_note)}">{NOTE_MARK}</span>'


def _board_table(board: Board, bid: str) -> str:
    lo, hi = _scale(board)
    has_ci = any(r.ci95 for r in board.rows)
    has_delta = any(r.delta for r in board.rows)
    head = ['<th data-first="ascending">#</th>', '<th class="l" data-first="ascending">Method</th>',
            f"<th>{escape(board.metric)}</th>"]
    head.append(f'<th class="l">{"95% CI" if has_ci else "value"}</th>')
    ties = has_ties(board)
    if ties:
        head.append(f'<th class="l ties" data-first="ascending">{TIES_COLUMN}</th>')
    if has_delta:
        head.append(f"<th>\u0394 {escape(board.metric)}</th>")
    head += [f"<th>{escape(m)}</th>" for m in board.metrics[1:]]
    head.append('<th class="l" data-first="ascending">Source</th>')
    ncol = len(head)
    rows = []
    place = {i: (g, p) for g, tg in enumerate(board.tie_groups) for p, i in enumerate(tg.rows)}
    shade = _shades(board) if ties else [None] * len(board.rows)
    for i, r in enumerate(board.rows):
        tg = f" {shade[i]}" if shade[i] else ""
        tds = [f'<td class="rank{tg}" data-v="{r.rank}">{r.rank}</td>',
               f'<td class="l name">{escape(r.name)}<span class="src {r.source}">{r.source}</span></td>',
               f'<td class="value" data-v="{_num(r.value)}">{_fmt(r, r.value)}</td>',
               f'<td class="bar l" data-v="{_num(r.ci95[1] - r.ci95[0]) if r.ci95 else ""}">{_error_bar(r, lo, hi)} '
               f'<span class="ci">{ci_text(r.ci95)}</span>{_note_mark(r)}</td>']
        if ties:
            tds.append(f'<td class="ties l" data-v="{r.tie_ranks[0] if r.tie_ranks else r.rank}">'
                       f'{escape(tie_cell(r))}</td>')
        if has_delta:
            dv = r.delta["value"] if r.delta else None
            tds.append(f'<td data-v="{_num(dv)}">{escape(delta_text(r, DAGGER))}</td>')
        for m in board.metrics[1:]:
            v = r.metrics.get(m)
            tds.append(f'<td data-v="{_num(v)}">{_fmt(r, v)}</td>')
        # "recomputed (file)" on two lines: the widest column of a board otherwise
        tds.append(f'<td class="l source">{escape(short_source(r)).replace(" (", "<br>(", 1)}</td>')
        pair = f' data-g="{place[i][0]}" data-p="{place[i][1]}"' if i in place else ""
        rows.append(f'<tr class="row {r.source}" data-name="{escape(r.name)}"{pair} '
                    f'title="{escape(_provenance_text(r))}">{"".join(tds)}</tr>')
        rows.append(f'<tr class="detail" hidden><td colspan="{ncol}">{_joint_detail(r, board)}</td></tr>')
    tools = (f'<div class="tools"><input type="search" class="filter" data-table="{bid}-table" '
             f'placeholder="Filter rows (method, source)" aria-label="Filter the rows of {escape(board.benchmark)}">'
             '<span class="count"></span></div>')
    return (f'{tools}<div class="scroll"><table class="lb" id="{bid}-table"><thead><tr>{"".join(head)}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>{_pairs_json(board, bid) if ties else ""}')


def _shades(board: Board) -> list[str | None]:
    """The rank cell's bar: rows tied with the same leading row share a colour (alternating between groups);
    a row tied with nobody has none."""
    groups = leader_groups(board.rows)
    sizes = {g: groups.count(g) for g in set(groups)}
    out, colour, last = [], 1, None
    for g in groups:
        if sizes[g] < 2:
            out.append(None)
            continue
        if g != last:
            colour, last = 1 - colour, g
        out.append(f"tg{colour}")
    return out


def _pairs_json(board: Board, bid: str) -> str:
    """Every pair's paired difference (upper triangle of each group, row-major), for the hover."""
    import json

    def flat(m, iu, ju):
        return [None if not math.isfinite(x) else round(float(x), 4) for x in m[iu, ju]]

    import numpy as np

    groups: list[dict | None] = []
    for tg in board.tie_groups:
        k = len(tg.rows)
        if k > HOVER_MAX:  # k(k-1)/2 pairs: a page no one can read; `prt compare` gives any pair
            groups.append(None)
            continue
        iu, ju = np.triu_indices(k, 1)
        groups.append({"k": k, "d": flat(tg.pairs.delta, iu, ju), "lo": flat(tg.pairs.low, iu, ju),
                       "hi": flat(tg.pairs.high, iu, ju), "p": flat(tg.pairs.p, iu, ju)})
    return (f'<script type="application/json" id="{bid}-pairs">'
            f'{json.dumps(groups, separators=(",", ":"))}</script>')


def _curves(board: Board, bid: str) -> str:
    every = [r for r in board.rows if r.curve and r.curve.get("thresholds")]
    if not every:
        return ""
    rows = every[:MAX_CURVES]  # a legend of a hundred lines is unreadable: the best-ranked ones
    W, H, L, B, T, R = 780, 340, 48, 36, 12, 330
    pw, ph = W - L - R, H - T - B
    xmax = max(max(r.curve["thresholds"]) for r in rows) or 0.5

    def px(x):
        return L + pw * x / xmax

    def py(y):
        return T + ph * (1 - y / 100.0)

    out = [f'<svg class="curves" id="{bid}-curves" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
           'aria-label="PCKh curves">', f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="#fff" '
           'stroke="#c9d0dc"/>']
    for k in range(0, 11):
        y = py(k * 10)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#eef0f4"/>'
                   f'<text x="{L - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#5a6270">{k * 10}'
                   "</text>")
    for k in range(0, 6):
        x = px(xmax * k / 5)
        out.append(f'<text x="{x:.1f}" y="{T + ph + 14}" font-size="10" text-anchor="middle" fill="#5a6270">'
                   f"{xmax * k / 5:.2f}</text>")
    out.append(f'<text x="{L + pw / 2}" y="{H - 4}" font-size="11" text-anchor="middle" fill="#1d2330">'
               "normalized distance (head sizes)</text>")
    out.append(f'<text x="12" y="{T + ph / 2}" font-size="11" text-anchor="middle" fill="#1d2330" '
               f'transform="rotate(-90 12 {T + ph / 2})">PCKh (%)</text>')
    for i, r in enumerate(rows):
        c = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(r.curve["thresholds"], r.curve["total"])
                       if y is not None)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.6"><title>{escape(r.name)}'
                   "</title></polyline>")
        ly = T + 10 + 16 * i
        auc = r.metrics.get("AUC")
        label = f"{r.name} ({r.value:.1f}" + (f", AUC {auc:.1f})" if auc is not None else ")")
        label = label if len(label) <= 50 else label[:49] + "\u2026"
        out.append(f'<line x1="{L + pw + 12}" y1="{ly}" x2="{L + pw + 30}" y2="{ly}" stroke="{c}" stroke-width="2"/>'
                   f'<text x="{L + pw + 34}" y="{ly + 4}" font-size="10.5" fill="#1d2330">{escape(label)}</text>')
    out.append("</svg>")
    which = "the results" if len(rows) == len(every) else f"the {len(rows)} best-ranked of the {len(every)} results"
    return (f'<figure>{"".join(out)}<figcaption>PCKh curves (Total over the 14 joints) of {which} with '
            "per-threshold numbers; legend: PCKh@0.5 and AUC.</figcaption></figure>")


def _subtitle(b: Board) -> str:
    parts = [escape(b.title), f"ranked by {escape(b.metric)}"]
    if b.protocol != "official":
        parts.append(f"protocol: {escape(b.protocol)}")
    if any(r.ci95 for r in b.rows):
        plural = "people" if b.unit == "person" else f"{b.unit}s"
        n = f"{b.items} {plural}" if b.items else plural
        parts.append(f"95% CI: percentile bootstrap over {n}, {b.resamples} resamples, seed {b.seed}")
    return " · ".join(parts)


def render_page(boards: list[Board], empty: str | None = None) -> str:
    """The page; ``empty`` says why there is no board (shown instead of the boards)."""
    sections, nav = [], []
    if not boards:
        sections.append(f'<p class="empty">No results: {escape(empty or "nothing to rank")}. Add one with '
                        "<code>prt evaluate --gt GT --pred PRED --save NAME</code>.</p>")
    for i, b in enumerate(boards):
        bid = f"board-{i}-{b.benchmark}-{b.task}".replace(".", "-")
        nav.append(f'<a href="#{bid}">{escape(b.benchmark)} / {escape(b.task)}</a>')
        foot = []
        if any(r.source == "quoted" for r in b.rows):
            foot.append(f"{DAGGER} quoted from {escape(PAPER)}; no interval (the per-item statistics are not "
                        "published).")
        if single_item(b):
            foot.append(f"No interval: the benchmark has one {escape(b.unit or 'item')}, and resampling it gives it "
                        "back.")
        if any(r.delta and r.delta.get("ci95") for r in b.rows):
            foot.append("\u0394: refined minus its base, paired bootstrap 95% interval and two-sided p-value.")
        if has_ties(b):
            big = max((len(tg.rows) for tg in b.tie_groups), default=0) > HOVER_MAX
            foot.append(escape(ties_note(b)) + (
                f". With more than {HOVER_MAX} paired rows the page leaves out the per-pair hover; "
                "<code>prt compare A B</code> gives any pair's paired difference and interval." if big else
                ". Hover a row: every other row shows its paired difference to it with the 95% interval."))
        notes = "".join(f'<p class="foot"><span class="ci-note">{NOTE_MARK}</span> {escape(names)}: {escape(note)}.</p>'
                        for note, names in interval_notes(b))
        sections.append(
            f'<section class="board" id="{bid}" data-benchmark="{escape(b.benchmark)}" data-task="{escape(b.task)}">'
            f"<h2>{escape(b.benchmark)} / {escape(b.task)}</h2><p class=\"sub\">{_subtitle(b)}</p>"
            f"{_board_table(b, bid)}<p class=\"foot\">{' '.join(foot)}</p>{notes}{_curves(b, bid)}</section>")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>prt leaderboard</title><style>{CSS}</style></head><body>"
            "<h1>prt leaderboard</h1>"
            f'<p class="sub">Generated by prt {escape(__version__)} on {when}. Click a column to sort, a row for its '
            "per-joint numbers; hover a row for its provenance and for every other row's paired difference to it "
            "(95% interval; green: statistically tied); type in a board's box to keep the rows that match. "
            "Sources: <span class=\"src recomputed\">recomputed"
            "</span> prt ran the method's released predictions, <span class=\"src user\">user</span> saved with "
            "<code>prt evaluate --save</code>, <span class=\"src quoted\">quoted</span> from the paper.</p>"
            f"<nav>{''.join(nav)}</nav>{''.join(sections)}<script>{SCRIPT}</script></body></html>\n")
