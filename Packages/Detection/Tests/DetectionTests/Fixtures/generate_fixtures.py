"""Writes fixtures.json for DetectionTests: torchvision's box_iou, generalized_box_iou, nms
and batched_nms (torchvision/ops/boxes.py; nms as its reference CPU kernel, in PyTorch), the
BoxCoder encoding (torchvision/models/detection/_utils.py), and PASCAL VOC's average
precision (py-faster-rcnn's voc_eval.py, use_07_metric=False) on random detections.

    .venv-peers/bin/python Packages/Detection/Tests/DetectionTests/Fixtures/generate_fixtures.py
"""
import json
import math
import os

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)


def t(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [repr(float(v)) for v in a.reshape(-1)]}


def random_boxes(n, smallest=2):
    xy = rng.uniform(0, 50, size=(n, 2))
    wh = rng.uniform(smallest, 30, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def box_area(b):
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(a, b):  # torchvision.ops.box_iou
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = box_area(a)[:, None] + box_area(b) - inter
    return inter / union, union


def generalized_box_iou(a, b):  # torchvision.ops.generalized_box_iou
    iou, union = box_iou(a, b)
    lti = torch.min(a[:, None, :2], b[:, :2])
    rbi = torch.max(a[:, None, 2:], b[:, 2:])
    whi = (rbi - lti).clamp(min=0)
    areai = whi[:, :, 0] * whi[:, :, 1]
    return iou - (areai - union) / areai


def nms(boxes, scores, threshold):  # torchvision's CPU kernel (nms_kernel.cpp)
    order = torch.argsort(scores, descending=True, stable=True)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    areas = box_area(boxes)
    for _i in range(len(boxes)):
        i = order[_i].item()
        if suppressed[i]:
            continue
        keep.append(i)
        for _j in range(_i + 1, len(boxes)):
            j = order[_j].item()
            if suppressed[j]:
                continue
            xx1 = max(boxes[i, 0], boxes[j, 0]); yy1 = max(boxes[i, 1], boxes[j, 1])
            xx2 = min(boxes[i, 2], boxes[j, 2]); yy2 = min(boxes[i, 3], boxes[j, 3])
            inter = max(0.0, xx2 - xx1) * max(0.0, yy2 - yy1)
            if inter / (areas[i] + areas[j] - inter) > threshold:
                suppressed[j] = True
    return keep


def batched_nms(boxes, scores, classes, threshold):  # coordinate trick of batched_nms
    offsets = classes.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, threshold)


def voc_ap(rec, prec):
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def voc_eval(dets, gts, cls, thr=0.5):
    """dets: per image (boxes, classes, scores); gts: per image (boxes, classes)."""
    records = {}
    npos = 0
    for k, (b, c) in enumerate(gts):
        bb = b[c == cls]
        records[k] = {"bbox": bb, "det": [False] * len(bb)}
        npos += len(bb)
    image_ids, confidence, BB = [], [], []
    for k, (b, c, s) in enumerate(dets):
        for j in np.where(c == cls)[0]:
            image_ids.append(k); confidence.append(s[j]); BB.append(b[j])
    if npos == 0:
        return float("nan")
    order = np.argsort(-np.array(confidence), kind="stable")
    tp = np.zeros(len(order)); fp = np.zeros(len(order))
    for d, idx in enumerate(order):
        R = records[image_ids[idx]]
        bb = BB[idx]
        ovmax = -np.inf
        BBGT = R["bbox"]
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0]); iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2]); iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin, 0.0); ih = np.maximum(iymax - iymin, 0.0)
            inters = iw * ih
            uni = (bb[2] - bb[0]) * (bb[3] - bb[1]) + (BBGT[:, 2] - BBGT[:, 0]) * (BBGT[:, 3] - BBGT[:, 1]) - inters
            overlaps = inters / uni
            ovmax = np.max(overlaps); jmax = np.argmax(overlaps)
        if ovmax >= thr and not R["det"][jmax]:
            tp[d] = 1.0; R["det"][jmax] = True
        else:
            fp[d] = 1.0
    fp = np.cumsum(fp); tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec)


out = {}
a = random_boxes(6); b = random_boxes(5)
b[0] = a[0]                       # one exact match
b[1] = [a[1, 0] + 1, a[1, 1], a[1, 2] + 1, a[1, 3]]  # a shifted copy
ta, tb = torch.tensor(a), torch.tensor(b)
out["pairs"] = {"a": t(a), "b": t(b), "iou": t(box_iou(ta, tb)[0]), "giou": t(generalized_box_iou(ta, tb))}

# Clustered boxes so that suppression has work to do.
centres = rng.uniform(10, 40, size=(4, 2))
cluster = []
for c in centres:
    for _ in range(5):
        xy = c + rng.normal(0, 2, size=2)
        wh = rng.uniform(8, 12, size=2)
        cluster.append(np.concatenate([xy - wh / 2, xy + wh / 2]))
boxes = torch.tensor(np.array(cluster))
scores = torch.tensor(rng.uniform(0, 1, size=len(cluster)))
classes = torch.tensor(rng.integers(0, 3, size=len(cluster)))
out["nms"] = {"boxes": t(boxes), "scores": t(scores), "classes": [int(v) for v in classes],
              "keep_0.5": nms(boxes, scores, 0.5), "keep_0.3": nms(boxes, scores, 0.3),
              "batched_keep_0.5": batched_nms(boxes, scores, classes, 0.5)}

anchors = random_boxes(4); targets = random_boxes(4)
weights = (10.0, 10.0, 5.0, 5.0)
aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
ax, ay = anchors[:, 0] + 0.5 * aw, anchors[:, 1] + 0.5 * ah
gw, gh = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
gx, gy = targets[:, 0] + 0.5 * gw, targets[:, 1] + 0.5 * gh
deltas = np.stack([weights[0] * (gx - ax) / aw, weights[1] * (gy - ay) / ah,
                   weights[2] * np.log(gw / aw), weights[3] * np.log(gh / ah)], axis=1)
out["coder"] = {"anchors": t(anchors), "boxes": t(targets), "deltas": t(deltas)}

# Detections over 6 images: noisy copies of the truth, some misclassified, plus clutter.
gts, dets = [], []
for k in range(6):
    n = int(rng.integers(1, 4))
    gb = random_boxes(n, smallest=12); gc = rng.integers(0, 3, size=n)
    db, dc, ds = [], [], []
    for j in range(n):
        for _ in range(int(rng.integers(0, 3))):
            db.append(gb[j] + rng.normal(0, 1.5, size=4)); dc.append(gc[j] if rng.uniform() < 0.85 else (gc[j] + 1) % 3)
            ds.append(rng.uniform(0.2, 1))
    for _ in range(int(rng.integers(0, 3))):
        db.append(random_boxes(1)[0]); dc.append(int(rng.integers(0, 3))); ds.append(rng.uniform(0, 0.6))
    db = np.array(db).reshape(-1, 4)
    db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 0.5)
    gts.append((gb, gc)); dets.append((db, np.array(dc, dtype=int), np.array(ds)))
aps = [voc_eval(dets, gts, c) for c in range(3)]
out["ap"] = {"images": [{"truth_boxes": t(g[0]), "truth_classes": [int(v) for v in g[1]],
                         "boxes": t(d[0]), "classes": [int(v) for v in d[1]], "scores": [repr(float(v)) for v in d[2]]}
                        for g, d in zip(gts, dets)],
             "per_class": [repr(float(v)) for v in aps], "mean": repr(float(np.nanmean(aps)))}

with open(os.path.join(here, "fixtures.json"), "w") as f:
    json.dump(out, f, indent=1)
print("AP", aps)
