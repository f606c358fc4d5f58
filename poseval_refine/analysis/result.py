"""``Analysis``: what ``analyze()`` gives — the ``--json`` content, a frame, a text summary, plots, the page."""

from __future__ import annotations

import math
from typing import Any

from .summary import moved_text

KINDS = ("good", "jitter", "inversion", "swap", "miss")


def _pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.1f}"


class Analysis:
    """The error diagnosis of one prediction (and of a second one, with ``compare``).

    ``to_dict()`` is exactly what ``prt analyze --json`` writes; ``to_frame()`` one row per joint with the
    count of each error kind (COCO, pose) or the MOTA parts (tracking); ``render()`` the text ``prt analyze``
    prints; ``plot()`` a matplotlib figure; ``html()`` the self-contained page of ``--html``."""

    def __init__(self, task: str, data: dict, extra: dict | None = None):
        self.task = task
        self._data = data
        self._extra = extra or {}

    @property
    def data(self) -> dict:
        """The numbers as computed (``to_dict()`` is their JSON form)."""
        return self._data

    @property
    def arrays(self) -> dict:
        """What the page and plots draw from: the read inputs and per-joint labels (task-specific)."""
        return self._extra

    def to_dict(self) -> dict:
        import orjson

        from ..io import dumps_json

        return orjson.loads(dumps_json(self._data))

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def to_frame(self):
        import pandas as pd

        per_joint = self._data.get("per_joint", {})
        return pd.DataFrame.from_dict(per_joint, orient="index").rename_axis("joint")

    def render(self) -> str:
        d = self._data
        lines = []
        if self.task == "hota":
            lines.append("HOTA = sqrt(DetA x AssA) per threshold, averaged over the 19 (percent):")
            lines.append(f"{'joint':<10}" + "".join(f"{p:>8}" for p in ("HOTA", "DetA", "AssA", "DetRe", "DetPr",
                                                                          "AssRe", "AssPr")))
            for j, v in d["per_joint"].items():
                lines.append(f"{j:<10}" + "".join(f"{_pct(v[p]):>8}" for p in ("HOTA", "DetA", "AssA", "DetRe",
                                                                                "DetPr", "AssRe", "AssPr")))
            worst = d["items"][:5]
            if worst:
                lines.append("worst sequences: " + ", ".join(
                    f"{it['sequence']} (HOTA {it['HOTA']:.1f}: DetA {it['DetA']:.1f}, AssA {it['AssA']:.1f})"
                    for it in worst))
            return "\n".join(lines)
        if self.task == "tracking":
            c = d["counts"]
            total = sum(c["objects"])
            lines.append(f"MOTA decomposition over {total} GT joints (percent of GT joints):")
            lines.append(f"{'joint':<16}{'MOTA':>8}{'misses':>9}{'false pos':>11}{'id switch':>11}")
            for j, v in d["per_joint"].items():
                lines.append(f"{j:<16}{_pct(v['mota']):>8}{_pct(v['misses']):>9}{_pct(v['false_positives']):>11}"
                             f"{_pct(v['switches']):>11}")
            worst = d["items"][:5]
            if worst:
                lines.append("worst sequences: " + ", ".join(f"{it['sequence']} ({it['error_rate']:.1f}% errors)"
                                                           for it in worst))
            return "\n".join(lines)
        kp = d["keypoints"]
        n = sum(kp.values()) or 1
        scope = "keypoints of the detections matched at OKS 0.1 (coco-analyze, area 'all')" if self.task == "coco" \
            else "GT joints of the matched people"
        lines.append(f"Error kinds over {sum(kp.values())} {scope}:")
        lines.append("  " + "  ".join(f"{k} {kp[k]} ({100 * kp[k] / n:.1f}%)" for k in KINDS))
        lines.append(_steps_text(self.task, d))
        if self.task in ("single", "pckh"):
            pass
        elif self.task == "coco":
            lines.append(f"false positives at OKS 0.50: {d['false_pos']['0.50']}   false negatives at OKS 0.50: "
                         f"{d['false_neg']['0.50']}")
        else:
            lines.append(f"false positives (predicted people matched to no GT person): {d['false_pos']}   "
                         f"false negatives (GT people matched by none): {d['false_neg']}")
            if d.get("ignored"):
                lines.append(f"predicted people of entries without GT people (the kit never looks at them): "
                             f"{d['ignored']}")
        if "moved" in d:
            lines.append(moved_text(d["moved"]))
        return "\n".join(lines)

    def plot(self, path=None, what: str = "pr", area: str = "all", oks: str = "0.75"):
        """A matplotlib figure: ``what='pr'`` coco-analyze's precision-recall curves after each correction (COCO,
        at OKS ``oks``), ``what='joints'`` the error kinds per joint. Saved to ``path`` when given."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .page import KIND_COLORS, STEP_COLORS

        fig, ax = plt.subplots(figsize=(7, 4.5))
        if what == "pr":
            if self.task != "coco":
                raise ValueError("precision-recall curves after each correction are COCO's (coco-analyze)")
            import numpy as np

            areas = self._extra["areas"]
            curves = areas[area].pr
            t = list(self._data["ap"]["baseline"]).index(oks) if oks in self._data["ap"]["baseline"] else 5
            rec = np.linspace(0, 1, 101)
            from .coco import OKS_KEYS

            t = OKS_KEYS.index(oks)
            for step, color in STEP_COLORS.items():
                ax.plot(rec, np.maximum(curves[step][t], 0), color=color, label=step)
            ax.set_xlabel("recall")
            ax.set_ylabel("precision")
            ax.set_title(f"precision-recall after each correction (OKS {oks}, area {area})")
            ax.legend(fontsize=8)
        elif self.task in ("tracking", "hota"):
            metric = "mota" if self.task == "tracking" else "HOTA"
            pj = self._data["per_joint"]
            ax.barh(list(pj), [float("nan") if v[metric] is None else v[metric] for v in pj.values()])
            ax.invert_yaxis()
            ax.set_title(f"{metric} per joint")
        else:
            pj = self._data["per_joint"]
            names = list(pj)
            bottom = [0] * len(names)
            for k in KINDS:
                vals = [pj[j][k] for j in names]
                ax.barh(names, vals, left=bottom, color=KIND_COLORS[k], label=k)
                bottom = [b + v for b, v in zip(bottom, vals)]
            ax.invert_yaxis()
            ax.legend(fontsize=8)
            ax.set_title("error kinds per joint")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig

    def html(self, images=None) -> str:
        from .page import render_page

        return render_page(self, images)

    def __repr__(self) -> str:
        return f"<Analysis task={self.task} keypoints={self._data.get('keypoints')}>"


def _steps_text(task: str, d: dict) -> str:
    if task == "coco":
        steps = d["ap"]
        keys = ("baseline", "miss", "swap", "inversion", "jitter", "score", "bckgd_false_pos", "false_neg")
        head = "AP after each cumulative correction (coco-analyze; OKS 0.50 / 0.75 / mean of 0.50:0.95):"
        rows = []
        for k in keys:
            v = steps[k]
            mean = sum(v.values()) / len(v)
            rows.append(f"  {k:<16}{100 * v['0.50']:7.1f}{100 * v['0.75']:7.1f}{100 * mean:7.1f}")
        return "\n".join([head, *rows])
    steps = d["pckh"] if task in ("single", "pckh") else d["ap"]
    rows = [f"  {k:<10}{_pct(v['Total']):>7}" for k, v in steps.items()]
    what = "PCKh@0.5" if task in ("single", "pckh") else "mAP"
    return "\n".join([f"{what} (Total) after fixing each kind cumulatively:", *rows])
