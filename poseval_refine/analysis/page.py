"""The ``--html`` page of ``prt analyze``: one self-contained file (inline SVG and images, no script, no network).

Sections: the counts; coco-analyze's precision–recall curves after each correction (COCO) or mAP after
each fix (PoseTrack); the error kinds per joint as stacked bars; the per-item table, worst first; with
``images``, overlays of the worst cases: GT joints as rings, predicted joints as dots coloured by their
error kind, a line from each wrong predicted joint to the GT joint it belongs to.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

KINDS = ("good", "jitter", "inversion", "swap", "miss")
#: coco-analyze's colours for its corrections, and for the error kinds they remove
KIND_COLORS = {"good": "#4caf50", "jitter": "#8C4646", "inversion": "#D96459", "swap": "#F2AE72", "miss": "#d4b106"}
STEP_COLORS = {"baseline": "#222222", "miss": "#d4b106", "swap": "#F2AE72", "inversion": "#D96459",
               "jitter": "#8C4646", "score": "#4F82BD", "bckgd_false_pos": "#8063A3", "false_neg": "seagreen"}
WORST = 6  # overlays of this many worst cases
ROWS = 40  # rows of the per-item table

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:100em;color:#222}
.row{display:flex;flex-wrap:wrap;gap:2em}
table{border-collapse:collapse;font-size:90%}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.kinds span{display:inline-block;margin-right:1.2em}
.sw{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:85%}"""


def _esc(v) -> str:
    return html.escape(str(v))


def _legend(colors: dict) -> str:
    return '<p class="kinds">' + "".join(f'<span><i class="sw" style="background:{c}"></i>{_esc(k)}</span>'
                                        for k, c in colors.items()) + "</p>"


def _pr_svg(curves: dict, t: int, title: str) -> str:
    w, h, m = 420, 300, 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{_esc(title)}">',
             f'<rect x="{m}" y="10" width="{w - m - 10}" height="{h - m - 10}" fill="none" stroke="#999"/>',
             f'<text x="{w / 2}" y="{h - 5}" text-anchor="middle" font-size="12">recall</text>',
             f'<text x="12" y="{h / 2}" font-size="12" transform="rotate(-90 12 {h / 2})" text-anchor="middle">'
             f'precision</text>',
             f'<text x="{m + 5}" y="24" font-size="12">{_esc(title)}</text>']
    sx = (w - m - 10) / 100
    sy = (h - m - 20)
    for v in (0, 0.5, 1):
        parts.append(f'<text x="{m - 4}" y="{10 + (1 - v) * sy + 4:.1f}" font-size="10" text-anchor="end">{v:g}</text>'
                     f'<text x="{m + v * 100 * sx:.1f}" y="{h - m + 12}" font-size="10" text-anchor="middle">{v:g}'
                     '</text>')
    for step, color in STEP_COLORS.items():
        if step not in curves:
            continue
        p = np.maximum(np.asarray(curves[step][t]), 0)
        pts = " ".join(f"{m + i * sx:.1f},{10 + (1 - v) * sy:.1f}" for i, v in enumerate(p))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.6"/>')
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(rows: dict[str, float], title: str, fmt="{:.1f}") -> str:
    w, bh = 420, 18
    h = 30 + bh * len(rows)
    hi = max([v for v in rows.values() if v == v] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{_esc(title)}">',
             f'<text x="0" y="14" font-size="12">{_esc(title)}</text>']
    for i, (k, v) in enumerate(rows.items()):
        y = 22 + i * bh
        length = 0 if v != v else 260 * v / hi
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{_esc(k)}</text>'
                     f'<rect x="110" y="{y + 2}" width="{length:.1f}" height="{bh - 5}" '
                     f'fill="{STEP_COLORS.get(k, "#4F82BD")}"/>'
                     f'<text x="{115 + length:.1f}" y="{y + 12}" font-size="11">{fmt.format(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _joint_bars_svg(per_joint: dict) -> str:
    w, bh = 720, 16
    names = list(per_joint)
    h = 10 + bh * len(names)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             'aria-label="error kinds per joint">']
    for i, j in enumerate(names):
        c = per_joint[j]
        total = sum(c.values())
        y = 5 + i * bh
        parts.append(f'<text x="0" y="{y + 11}" font-size="11">{_esc(j)}</text>')
        if not total:
            parts.append(f'<text x="124" y="{y + 11}" font-size="10">no GT joint</text>')
            continue
        x = 120.0
        for k in KINDS:
            width = 480 * c.get(k, 0) / total
            if width > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{width:.1f}" height="{bh - 3}" '
                             f'fill="{KIND_COLORS[k]}"><title>{_esc(j)}: {k} {c.get(k, 0)}</title></rect>')
            x += width
        bad = total - c.get("good", 0)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 11}" font-size="10">{100 * bad / total:.0f}% wrong</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(items: list[dict], key: str) -> str:
    if not items:
        return "<p>No item has an error.</p>"
    if "keypoints" in items[0]:
        head = [key, *KINDS, "false pos", "false neg", "errors"]
        rows = [[it[key], *(it["keypoints"][k] for k in KINDS), it["false_pos"], it["false_neg"], it["errors"]]
                for it in items[:ROWS]]
    else:
        head = [key, "misses", "false pos", "id switches", "GT joints", "error %"]
        rows = [[it[key], it["misses"], it["false_positives"], it["switches"], it["gt_joints"],
                 f"{it['error_rate']:.1f}"] for it in items[:ROWS]]
    out = ["<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>" for r in rows]
    more = f"<p>... {len(items) - ROWS} more</p>" if len(items) > ROWS else ""
    return "".join(out) + "</table>" + more


def _image_tag(path: Path) -> tuple[str, int, int] | None:
    try:
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
    except Exception:  # an unreadable image: no overlay for it (the page says so)
        return None
    mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii"), w, h


def _overlay(uri: str, w: int, h: int, gt_pts, pred_pts, caption: str) -> str:
    """``gt_pts``: [(x, y)], ``pred_pts``: [(x, y, kind, gx, gy)] (gx, gy: its GT joint, or None)."""
    scale = min(1.0, 460 / max(w, 1))
    r = max(2.0, 4 / scale)
    parts = [f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{w * scale:.0f}" height="{h * scale:.0f}" '
             f'viewBox="0 0 {w} {h}"><image href="{uri}" x="0" y="0" width="{w}" height="{h}"/>']
    for x, y in gt_pts:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{1.6 * r:.1f}" fill="none" stroke="white" '
                     f'stroke-width="{r / 2:.1f}"/>')
    for x, y, kind, gx, gy in pred_pts:
        color = KIND_COLORS.get(kind, "#888")
        if gx is not None and kind != "good":
            parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{gx:.1f}" y2="{gy:.1f}" stroke="{color}" '
                         f'stroke-width="{r / 2:.1f}"/>')
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{color}"/>')
    parts.append(f"</svg><figcaption>{_esc(caption)}</figcaption></figure>")
    return "".join(parts)


def _coco_overlays(analysis, images: Path) -> list[str]:
    from .coco import KINDS as CK

    ex = analysis.arrays
    inp, area = ex["inputs"], ex["areas"]["all"]
    files = ex.get("files", {})
    out = []
    shown = [it for it in analysis.data["items"] if files.get(it["image_id"])
             and (images / files[it["image_id"]]).is_file()][:WORST]
    if not shown:
        return [f"<p>None of the images with errors is under {_esc(images)}.</p>"]
    for it in shown:
        i = inp.image_ids.index(it["image_id"])
        name = files.get(it["image_id"])
        tag = _image_tag(images / name) if name else None
        if tag is None:
            out.append(f"<p>image {_esc(it['image_id'])}: {_esc(name)} not found under {_esc(images)}</p>")
            continue
        g, d = inp.g, inp.d
        gs = range(g.start[i], g.start[i + 1])
        gt_pts = [(g.x[r, k], g.y[r, k]) for r in gs for k in range(17) if inp.v[r, k] > 0]
        pred = []
        for r in range(d.start[i], d.start[i + 1]):
            m = area.matched_gt[r]
            for k in range(17):
                code = int(area.labels[r, k])
                if code == 0:
                    continue
                pred.append((d.x[r, k], d.y[r, k], CK[code - 1], g.x[m, k], g.y[m, k]))
        out.append(_overlay(*tag, gt_pts, pred, f"image {it['image_id']}: {it['errors']} errors"))
    return out


def _pose_overlays(analysis, images: Path) -> list[str]:
    """The frames with the most wrong joints among those whose image is under ``images``."""
    from .headsize import KINDS as HK

    ex = analysis.arrays
    worst = []
    names_of = {}
    for s, (c, (lab, _, arr)) in enumerate(zip(ex["cleaned"], ex["labels"])):
        bad = ((lab > 1).sum(axis=(1, 2)))
        g_row = arr[3]
        names_of[s] = frame_names(ex["gt_files"][s])
        for f in np.argsort(-bad, kind="stable").tolist():
            first = g_row[f][g_row[f] >= 0]
            if not (bad[f] and len(first)):
                break
            frame = int(c.gt.person_frame[first[0]])
            if frame < len(names_of[s]) and (images / names_of[s][frame]).is_file():
                worst.append((int(bad[f]), s, f))
                if len(worst) >= WORST * (s + 1):
                    break
    worst.sort(key=lambda t: (-t[0], t[1], t[2]))
    if not worst:
        return [f"<p>None of the frames with errors has its image under {_esc(images)}.</p>"]
    out = []
    for n_bad, s, f in worst[:WORST]:
        c = ex["cleaned"][s]
        lab, match, arr = ex["labels"][s]
        g_xy, p_kp, _, g_row = arr[0], arr[1], arr[2], arr[3]
        first = g_row[f][g_row[f] >= 0]
        name = names_of[s][int(c.gt.person_frame[first[0]])]
        tag = _image_tag(images / name) if name else None
        if tag is None:
            out.append(f"<p>{_esc(ex['names'][s])} frame {f}: {_esc(name)} not found under {_esc(images)}</p>")
            continue
        present = ~np.isnan(g_xy[f, ..., 0])
        gt_pts = [tuple(g_xy[f, gi, k]) for gi, k in zip(*np.nonzero(present))]
        pred = []
        for p in np.flatnonzero(match[f] >= 0).tolist():
            gi = int(match[f, p])
            for k in range(lab.shape[2]):
                code = int(lab[f, gi, k])
                if code == 0 or np.isnan(p_kp[f, p, k, 0]):
                    continue
                pred.append((p_kp[f, p, k, 0], p_kp[f, p, k, 1], HK[code - 1], g_xy[f, gi, k, 0], g_xy[f, gi, k, 1]))
        out.append(_overlay(*tag, gt_pts, pred, f"{ex['names'][s]}, {name}: {n_bad} wrong joints"))
    return out


def _mpii_cases(analysis) -> list[tuple[int, str, list, list]]:
    """(wrong joints, image name, GT points, predicted points) of every MPII image with an error: ``single``
    (prediction i is GT person i; people grouped by image name) and ``multi`` (the kit's matching per entry)."""
    from .headsize import KINDS as HK

    ex = analysis.arrays
    g, p = ex["gt"], ex["pred"]
    cases = []
    if analysis.task == "single":
        labels = np.asarray(ex["labels"])
        names = [g.image_names[f] for f in g.person_frame]
        by_image: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            by_image.setdefault(n, []).append(i)
        for name, people in by_image.items():
            bad = int((labels[people] > 1).sum())
            if not bad:
                continue
            gt_pts, pred = [], []
            for i in people:
                for k in range(labels.shape[1]):
                    gx, gy = g.keypoints[i, k, :2]
                    if not np.isnan(gx):
                        gt_pts.append((gx, gy))
                    if labels[i, k] and not np.isnan(p.keypoints[i, k, 0]):
                        pred.append((p.keypoints[i, k, 0], p.keypoints[i, k, 1], HK[labels[i, k] - 1], gx, gy))
            cases.append((bad, name, gt_pts, pred))
    else:
        g_xy, p_kp, match, _ = ex["arrays"]
        cases = matched_cases(ex["labels"], g_xy, p_kp[..., :2], match, g.image_names)
    cases.sort(key=lambda c: -c[0])
    return cases


def matched_cases(labels: np.ndarray, g_xy: np.ndarray, p_xy: np.ndarray, match: np.ndarray, names) -> list:
    """(wrong joints, image name, GT points, predicted points) of every frame with a wrong joint, from padded
    per-frame arrays: labels (F, G, K), GT xy (F, G, K, 2) and predicted xy (F, H, K, 2) with NaN where absent,
    the GT person each prediction is matched to (F, H)."""
    from .headsize import KINDS as HK

    cases = []
    for f in np.flatnonzero((labels > 1).any(axis=(1, 2))).tolist():
        gt_pts = [tuple(g_xy[f, gi, k]) for gi, k in zip(*np.nonzero(~np.isnan(g_xy[f, ..., 0])))]
        pred = []
        for q in np.flatnonzero(match[f] >= 0).tolist():
            gi = int(match[f, q])
            for k in range(labels.shape[2]):
                code = int(labels[f, gi, k])
                if code and not np.isnan(p_xy[f, q, k, 0]):
                    pred.append((p_xy[f, q, k, 0], p_xy[f, q, k, 1], HK[code - 1], g_xy[f, gi, k, 0],
                                 g_xy[f, gi, k, 1]))
        cases.append((int((labels[f] > 1).sum()), names[f], gt_pts, pred))
    return cases


def _pose21_cases(analysis) -> list:
    """Every labeled PoseTrack21 frame with a wrong joint (its image: the GT file's ``file_name``)."""
    ex = analysis.arrays
    cases = []
    for gt_file, labeled, (labels, match, _, arrays) in zip(ex["gt_files"], ex["labeled"], ex["labels"]):
        files = frame_names(gt_file)
        names = [files[i] if i < len(files) else "" for i in labeled]
        cases += matched_cases(labels, arrays[0], arrays[1], match, names)
    return cases


def _case_overlays(cases: list, images: Path) -> list[str]:
    """The cases with the most wrong joints among those whose image is under ``images``."""
    cases = sorted(cases, key=lambda c: -c[0])
    shown = [c for c in cases if c[1] and (images / c[1]).is_file()][:WORST]
    if not shown:
        return [f"<p>None of the images with errors is under {_esc(images)}.</p>"]
    out = []
    for bad, name, gt_pts, pred in shown:
        tag = _image_tag(images / name)
        if tag is None:
            out.append(f"<p>{_esc(name)}: not readable under {_esc(images)}</p>")
            continue
        out.append(_overlay(*tag, gt_pts, pred, f"{name}: {bad} wrong joints"))
    return out


def frame_names(gt_file) -> list[str]:
    """The image name of every frame of a PoseTrack GT file (2017 ``annolist``, 2018 ``images``)."""
    from ..io import load_json

    try:
        data = gt_file if isinstance(gt_file, dict) else load_json(gt_file)
        if "annolist" in data:
            return [str((fr.get("image") or [{}])[0].get("name", "")) for fr in data["annolist"]]
        return [str(im.get("file_name", "")) for im in data.get("images", [])]
    except Exception:  # the page is drawn after the analysis read this file: unreadable now means no overlay
        return []


def render_page(analysis, images=None) -> str:
    d = analysis.data
    task = analysis.task
    body = [f"<h1>prt analyze — {_esc(task)}</h1>"]
    if task == "hota":
        body.append("<p>HOTA = √(DetA · AssA) at each of the 19 thresholds, averaged: detection (DetRe, DetPr) and "
                    "association (AssRe, AssPr) parts per joint and per sequence.</p>")
        body.append(_bars_svg({j: v["HOTA"] for j, v in d["per_joint"].items()}, "HOTA per joint"))
        head = ["sequence", "HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "TP", "FN", "FP"]
        rows = [[it["sequence"], *(f"{it[k]:.1f}" for k in head[1:8]), it["tp"], it["fn"], it["fp"]]
                for it in d["items"][:ROWS]]
        body.append("<h2>Sequences, worst first</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
                    + "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>" for r in rows)
                    + "</table>")
    elif task == "tracking":
        body.append("<p>MOTA per joint decomposed into misses, false positives and identity switches (percent of "
                    "the GT joints; MOTA = 100 − the three).</p>")
        rows = {j: v["mota"] if v["mota"] is not None else float("nan") for j, v in d["per_joint"].items()}
        body.append(_bars_svg(rows, "MOTA per joint"))
        body.append("<h2>Sequences, worst first</h2>" + _table(d["items"], "sequence"))
    else:
        kp = d["keypoints"]
        body.append(_legend(KIND_COLORS))
        body.append("<p>" + ", ".join(f"{k}: {kp[k]}" for k in KINDS) + "</p>")
        if task == "coco":
            curves = analysis.arrays["areas"]["all"].pr
            body.append("<h2>Precision–recall after each correction (coco-analyze, area all)</h2>")
            body.append(_legend(STEP_COLORS))
            body.append(_pr_svg(curves, 0, "OKS 0.50") + " " + _pr_svg(curves, 5, "OKS 0.75"))
            ap = {k: 100 * float(np.mean(list(v.values()))) for k, v in d["ap"].items()}
            body.append("<div class=\"row\"><div>" + _bars_svg(ap, "AP (mean over OKS 0.50:0.95) after each "
                                                                  "correction") + "</div>")
        else:
            what = "PCKh@0.5" if task in ("single", "pckh") else "mAP"
            ap = {k: v["Total"] for k, v in d["pckh" if task in ("single", "pckh") else "ap"].items()}
            body.append(f"<div class=\"row\"><div><h2>{what} after fixing each kind cumulatively</h2>"
                        + _bars_svg(ap, f"{what} (Total)") + "</div>")
        body.append("<div><h2>Error kinds per joint</h2>" + _joint_bars_svg(d["per_joint"]) + "</div></div>")
        if "moved" in d:
            from .summary import moved_text

            body.append("<h2>Before → after</h2><p>" + _esc(moved_text(d["moved"])) + "</p>")
        if images is not None:
            body.append("<h2>Worst cases</h2><p>GT joints: white rings; predicted joints coloured by error kind, "
                        "a line to the GT joint they belong to.</p>")
            if task == "coco":
                body += _coco_overlays(analysis, Path(images))
            elif task == "pose":
                body += _pose_overlays(analysis, Path(images))
            elif task in ("single", "multi"):
                body += _case_overlays(_mpii_cases(analysis), Path(images))
            elif task == "pose21" and "gt_files" in analysis.arrays:
                body += _case_overlays(_pose21_cases(analysis), Path(images))
            else:
                body.append("<p>Overlays are drawn for COCO, PoseTrack pose and pose21, and MPII.</p>")
        key = {"coco": "image_id", "single": "image", "pckh": "image", "multi": "image"}.get(task, "sequence")
        body.append(f"<h2>{'Sequences' if key == 'sequence' else 'Images'}, worst first</h2>" + _table(d["items"], key))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>prt analyze ({_esc(task)})</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>")
