"""Hand-made PoseTrack benchmarks around poseval's dummy frames and GT track ids repeated within a frame.

poseval replaces a labeled frame without predictions by a dummy (object 0, hypothesis 0, never
paired) for every joint, and adds ``i * 10000`` to the track ids of its i-th sequence (the dummy
is not shifted). motmetrics crashes (KeyError) when a GT id repeated within a frame is paired twice
before the id has ever been fed to that joint's accumulator; a dummy frame feeds object 0, so GT id
0 of the first sequence (or -10000 of the second, ...) repeated later is counted instead.

``python -m tests.support.dummy_cases OUT`` writes every case to ``OUT/<case>/{gt,pred}``; the numbers of
tests/data/poseval_dummy_cases.json come from running the official poseval on them (see its
``_source``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .ptbuild import frame, person

A, B, C = (100, 100), (300, 100), (600, 100)
UPPER = range(8)  # joints 0..7
SHIFT = (3, 2)  # predictions a little off, so MOTP is not 100


def gt(*people):
    """A GT frame: people as (anchor, track) or (anchor, track, joints)."""
    return frame([person(*p[0], track=p[1], joints=p[2] if len(p) > 2 else range(15)) for p in people])


def pred(*people):
    """A prediction frame: people as (anchor, track, score) or (anchor, track, score, joints)."""
    return frame([person(*p[0], track=p[1], score=p[2], joints=p[3] if len(p) > 3 else range(15), shift=SHIFT)
                  for p in people])


def _pair():
    return pred((A, 5, 0.9), (B, 6, 0.8))


def _frames(name: str) -> dict[str, tuple[list, list]]:
    """{file name: (GT frames, prediction frames)} of one case; ``file name`` "-" is placed first."""
    if name == "base":  # the README's example: dummy, then GT id 0 twice (MATCH + SWITCH per joint)
        return {"seq": ([gt((A, 0))] + [gt((A, 0), (B, 0))] * 3, [pred()] + [_pair()] * 3)}
    if name == "many_dummies":  # three dummy frames, then the repeated id; the pairs swap once
        return {"seq": ([gt((A, 0)), gt((A, 0)), gt((B, 0))] + [gt((A, 0), (B, 0))] * 4,
                        [pred()] * 3 + [_pair(), pred((A, 6, 0.8), (B, 5, 0.9)), _pair(), _pair()])}
    if name == "dropped_person_dummy":  # the frame's only prediction has no points: poseval drops it -> dummy
        no_points = frame([{"track_id": [9], "x1": [0], "y1": [0], "x2": [9], "y2": [9]}])
        return {"seq": ([gt((A, 0))] + [gt((A, 0), (B, 0))] * 3, [no_points] + [_pair()] * 3)}
    if name == "pred_id_0":  # predicted ids 0 and 1 (the dummy's hypothesis 0 is never paired: no effect)
        return {"seq": ([gt((A, 3))] + [gt((A, 0), (B, 0))] * 2 + [gt((A, 0), (B, 1))] * 2,
                        [pred()] + [pred((A, 0, 0.9), (B, 1, 0.8)), pred((A, 1, 0.9), (B, 0, 0.8)),
                                    pred((A, 0, 0.9), (B, 1, 0.8)), pred((A, 0, 0.9), (B, 1, 0.8))])}
    if name == "dummies_start_middle_end":  # dummies first, in between and in the dropped last frame
        return {"seq": ([gt((A, 0))] + [gt((A, 0), (B, 0))] * 5,
                        [pred(), _pair(), pred((A, 6, 0.8), (B, 5, 0.9)), pred(), _pair(), pred()])}
    if name == "history_then_dummy":  # id 0 paired first, then a dummy, then the repeat (history MATCH + SWITCH)
        return {"seq": ([gt((A, 0)), gt((A, 0))] + [gt((A, 0), (B, 0))] * 3,
                        [pred((A, 5, 0.9)), pred()] + [_pair()] * 3)}
    if name == "three_copies":
        return {"seq": ([gt((A, 0))] + [gt((A, 0), (B, 0), (C, 0))] * 3,
                        [pred()] + [pred((A, 5, 0.9), (B, 6, 0.8), (C, 7, 0.7))] * 3)}
    if name == "upper_joints_seen":  # no dummy: id 0 was fed for joints 0-7 only, the copy has joints 0-7 only
        return {"seq": ([gt((A, 0, UPPER))] + [gt((A, 0), (B, 0, UPPER))] * 3,
                        [pred((A, 5, 0.9, UPPER))] + [_pair()] * 3)}
    if name == "dummy_rescues_lower_joints":  # joints 8-14 of id 0 only ever seen through the dummy
        return {"seq": ([gt((A, 0, UPPER)), gt((A, 0))] + [gt((A, 0), (B, 0))] * 3,
                        [pred((A, 5, 0.9, UPPER)), pred()] + [_pair()] * 3)}
    if name == "two_sequences":  # the second sequence's dummy is its GT id -10000 (poseval shifts ids)
        return {"-": ([gt((A, 0))] + [gt((A, 0), (B, 0))] * 3, [pred()] + [_pair()] * 3),
                "second": ([gt((A, -10000))] + [gt((A, -10000), (B, -10000))] * 3, [pred()] + [_pair()] * 3)}
    raise KeyError(name)


#: cases poseval evaluates (numbers in tests/data/poseval_dummy_cases.json)
ACCEPTED = ["base", "many_dummies", "dropped_person_dummy", "pred_id_0", "dummies_start_middle_end",
            "history_then_dummy", "three_copies", "upper_joints_seen", "dummy_rescues_lower_joints",
            "two_sequences"]


def crashing(name: str) -> dict[str, tuple[list, list]]:
    """Cases poseval crashes on (motmetrics' KeyError): {file: frames}; the file it crashes on is "bad"."""
    if name == "repeat_before_dummy":  # the repeat comes before the only dummy
        return {"bad": ([gt((A, 0), (B, 0))] * 2 + [gt((A, 0))] * 2, [_pair()] * 2 + [pred(), pred((A, 5, 0.9))])}
    if name == "lower_joints_unseen":  # id 0 was fed for joints 0-7 only, no dummy: joints 8-14 crash
        return {"bad": ([gt((A, 0, UPPER))] + [gt((A, 0), (B, 0))] * 3, [pred((A, 5, 0.9, UPPER))] + [_pair()] * 3)}
    if name == "other_id_after_dummy":  # the dummy is id 0, the repeated id is 7
        return {"bad": ([gt((A, 7))] + [gt((A, 7), (B, 7))] * 3, [pred()] + [_pair()] * 3)}
    if name == "id_0_in_second_sequence":  # poseval's second sequence: its dummy is -10000, not 0
        case = _frames("base")["seq"]
        return {"-": case, "bad": case}
    raise KeyError(name)


CRASHING = ["repeat_before_dummy", "lower_joints_unseen", "other_id_after_dummy", "id_0_in_second_sequence"]


def write(root: Path, files: dict[str, tuple[list, list]]) -> dict[str, Path]:
    """Write the case; the file named "-" gets the name the folder lists first (poseval's sequence 0).

    Returns {key: GT file}."""
    (root / "gt").mkdir(parents=True, exist_ok=True)
    (root / "pred").mkdir(parents=True, exist_ok=True)
    names = {key: f"seq_{i}.json" for i, key in enumerate(files)}
    for name in names.values():  # placeholders first, to learn the listing order
        (root / "gt" / name).write_text("{}")
    from poseval_refine.formats.posetrack import sequence_files

    listed = [p.name for p in sequence_files(root / "gt", "filesystem")]
    if "-" in files and listed[0] != names["-"]:
        other = next(k for k, v in names.items() if v == listed[0])
        names["-"], names[other] = names[other], names["-"]
    for key, (g, p) in files.items():
        (root / "gt" / names[key]).write_text(json.dumps({"annolist": g}))
        (root / "pred" / names[key]).write_text(json.dumps({"annolist": p}))
    return {key: root / "gt" / name for key, name in names.items()}


def write_case(root: Path, name: str) -> dict[str, Path]:
    return write(root, _frames(name) if name in ACCEPTED else crashing(name))


def record(out: Path, poseval: Path) -> dict:
    """Run the official poseval on every case (as its README says) and collect its MOT numbers."""
    import subprocess

    recorded = {"_source": f"python -m tests.support.dummy_cases OUT --poseval {poseval}: official poseval "
                           "(leonid-pishchulin/poseval), python -m poseval.evaluate --evalPoseEstimation "
                           "--evalPoseTracking, motmetrics 1.4.0, numpy 2.4",
                "accepted": {}, "crashed": {}}
    for case in ACCEPTED + CRASHING:
        root = out / case
        cmd = [sys.executable, "-m", "poseval.evaluate", "--groundTruth", f"{root}/gt/", "--predictions",
               f"{root}/pred/", "--evalPoseEstimation", "--evalPoseTracking", "--outputDir", f"{root}/out/"]
        proc = subprocess.run(cmd, cwd=poseval, capture_output=True, text=True)
        if proc.returncode:
            recorded["crashed"][case] = proc.stderr.strip().splitlines()[-1]
        else:
            mot = json.loads((root / "out" / "total_MOT_metrics.json").read_text())
            recorded["accepted"][case] = {k: mot[k] for k in ("mota", "motp", "pre", "rec")}
    return recorded


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--poseval", type=Path, help="official poseval checkout: print its numbers as JSON")
    args = ap.parse_args()
    for case in ACCEPTED + CRASHING:
        write_case(args.out / case, case)
    if args.poseval:
        print(json.dumps(record(args.out, args.poseval.resolve()), indent=1))
