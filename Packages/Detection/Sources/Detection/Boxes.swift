import TensorCore

/// Box operations on `[N, 4]` tensors of corners `(x1, y1, x2, y2)` (torchvision's layout),
/// differentiable where they are built from tensor operations (IoU and GIoU).
///
/// Boxes with `x2 < x1` or `y2 < y1` are programmer errors: the operations that take boxes stop
/// naming the first such box.
public enum Boxes {
    /// Stops unless `boxes` is `[N, 4]` with non-negative widths and heights.
    public static func check(_ boxes: Tensor, _ operation: String) {
        tensorCheck(boxes.rank == 2 && boxes.shape[1] == 4, "[\(operation)] boxes \(shapeText(boxes.shape)) should be [N, 4] (x1, y1, x2, y2)")
        let v = withoutGradients { boxes.cast(to: .float64).contiguous().scalars(as: Double.self) }
        for i in 0..<boxes.shape[0] where v[4 * i + 2] < v[4 * i] || v[4 * i + 3] < v[4 * i + 1] || v[4 * i ..< 4 * i + 4].contains(where: \.isNaN) {
            tensorCheck(false, "[\(operation)] box \(i) (\(v[4 * i]), \(v[4 * i + 1]), \(v[4 * i + 2]), \(v[4 * i + 3])) has a negative "
                        + "width or height: corners should be (x1, y1, x2, y2) with x2 ≥ x1 and y2 ≥ y1")
        }
    }

    static func columns(_ boxes: Tensor) -> (Tensor, Tensor, Tensor, Tensor) {
        (boxes.narrowed(axis: 1, start: 0, length: 1), boxes.narrowed(axis: 1, start: 1, length: 1),
         boxes.narrowed(axis: 1, start: 2, length: 1), boxes.narrowed(axis: 1, start: 3, length: 1))
    }

    /// Areas `[N]`.
    public static func area(_ boxes: Tensor) -> Tensor {
        check(boxes, "Boxes.area")
        let (x1, y1, x2, y2) = columns(boxes)
        return ((x2 - x1) * (y2 - y1)).squeezed(axis: 1)
    }

    typealias Corners = (x1: Tensor, y1: Tensor, x2: Tensor, y2: Tensor)

    /// IoU and generalised IoU of corner columns that broadcast against each other: `[N, 1]`
    /// with `[1, M]` for every pair, `[N, 1]` with `[N, 1]` for matched pairs.
    static func overlap(_ a: Corners, _ b: Corners) -> (iou: Tensor, giou: Tensor) {
        let width = (a.x2.minimum(b.x2) - a.x1.maximum(b.x1)).clamped(min: 0)
        let height = (a.y2.minimum(b.y2) - a.y1.maximum(b.y1)).clamped(min: 0)
        let intersection = width * height
        let union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection
        let iou = intersection / union.clamped(min: 1e-12)
        let enclosing = (a.x2.maximum(b.x2) - a.x1.minimum(b.x1)) * (a.y2.maximum(b.y2) - a.y1.minimum(b.y1))
        return (iou, iou - (enclosing - union) / enclosing.clamped(min: 1e-12))
    }

    /// Every pair of `a` (rows) and `b` (columns).
    static func pairwise(_ a: Tensor, _ b: Tensor) -> (iou: Tensor, giou: Tensor) {
        let bt = b.transposed()                                                 // [4, M]
        let row = { (k: Int) in bt.narrowed(axis: 0, start: k, length: 1) }     // [1, M]
        return overlap(columns(a), (row(0), row(1), row(2), row(3)))
    }

    /// Intersection over union `[N, M]` of every pair (`torchvision.ops.box_iou`); 0 where both
    /// boxes are empty.
    public static func iou(_ a: Tensor, _ b: Tensor) -> Tensor {
        check(a, "Boxes.iou"); check(b, "Boxes.iou")
        return pairwise(a, b).iou
    }

    /// Generalised IoU `[N, M]` (Rezatofighi et al. 2019; `torchvision.ops.generalized_box_iou`):
    /// IoU minus the fraction of the smallest enclosing box that the union does not cover.
    public static func generalizedIoU(_ a: Tensor, _ b: Tensor) -> Tensor {
        check(a, "Boxes.generalizedIoU"); check(b, "Boxes.generalizedIoU")
        return pairwise(a, b).giou
    }

    /// `1 − GIoU` of matched pairs (`a[i]` with `b[i]`), `[N]`: the box regression loss.
    public static func generalizedIoULoss(_ a: Tensor, _ b: Tensor) -> Tensor {
        tensorCheck(a.shape == b.shape, "[Boxes.generalizedIoULoss] predictions \(shapeText(a.shape)) and targets \(shapeText(b.shape)) differ")
        check(b, "Boxes.generalizedIoULoss")
        return (1 - overlap(columns(a), columns(b)).giou).squeezed(axis: 1)
    }

    /// Corners to centre, width, height.
    public static func toCenterSize(_ boxes: Tensor) -> Tensor {
        let (x1, y1, x2, y2) = columns(boxes)
        return Tensor.concatenated([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1], axis: 1)
    }

    /// Centre, width, height to corners.
    public static func toCorners(_ boxes: Tensor) -> Tensor {
        let (cx, cy, w, h) = columns(boxes)
        return Tensor.concatenated([cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5], axis: 1)
    }

    /// Faster R-CNN's regression targets of `boxes` relative to `anchors` (`[N, 4]` each):
    /// `(wx (x − xa)/wa, wy (y − ya)/ha, ww log(w/wa), wh log(h/ha))` with `weights`
    /// (torchvision's `BoxCoder`).
    public static func encode(_ boxes: Tensor, anchors: Tensor, weights: (Double, Double, Double, Double) = (1, 1, 1, 1)) -> Tensor {
        check(boxes, "Boxes.encode"); check(anchors, "Boxes.encode")
        tensorCheck(boxes.shape == anchors.shape, "[Boxes.encode] boxes \(shapeText(boxes.shape)) and anchors \(shapeText(anchors.shape)) differ")
        let (x, y, w, h) = columns(toCenterSize(boxes)), (xa, ya, wa, ha) = columns(toCenterSize(anchors))
        return Tensor.concatenated([(x - xa) / wa * weights.0, (y - ya) / ha * weights.1,
                                    (w / wa).log() * weights.2, (h / ha).log() * weights.3], axis: 1)
    }

    /// The inverse of `encode`.
    public static func decode(_ deltas: Tensor, anchors: Tensor, weights: (Double, Double, Double, Double) = (1, 1, 1, 1)) -> Tensor {
        check(anchors, "Boxes.decode")
        tensorCheck(deltas.shape == anchors.shape, "[Boxes.decode] deltas \(shapeText(deltas.shape)) and anchors \(shapeText(anchors.shape)) differ")
        let (dx, dy, dw, dh) = columns(deltas), (xa, ya, wa, ha) = columns(toCenterSize(anchors))
        let center = Tensor.concatenated([xa + dx / weights.0 * wa, ya + dy / weights.1 * ha,
                                          wa * (dw / weights.2).exp(), ha * (dh / weights.3).exp()], axis: 1)
        return toCorners(center)
    }

    /// Anchors `[gridHeight · gridWidth · sizes · ratios, 4]`: centred on each cell of a grid of
    /// `stride`-pixel cells (row by row), one per size and aspect ratio (`h/w`; area `size²`),
    /// as torchvision's `AnchorGenerator` orders them.
    public static func anchors(gridHeight: Int, gridWidth: Int, stride: Double, sizes: [Double], aspectRatios: [Double] = [1]) -> Tensor {
        tensorCheck(gridHeight > 0 && gridWidth > 0 && stride > 0 && !sizes.isEmpty && sizes.allSatisfy({ $0 > 0 })
                    && !aspectRatios.isEmpty && aspectRatios.allSatisfy({ $0 > 0 }),
                    "[Boxes.anchors] grid \(gridHeight)×\(gridWidth), stride \(stride), sizes \(sizes) and ratios \(aspectRatios) must be positive")
        var values: [Double] = []
        for r in 0..<gridHeight {
            for c in 0..<gridWidth {
                let cx = (Double(c) + 0.5) * stride, cy = (Double(r) + 0.5) * stride
                for ratio in aspectRatios {
                    for size in sizes {
                        let w = size / ratio.squareRoot(), h = size * ratio.squareRoot()
                        values += [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
                    }
                }
            }
        }
        return Tensor(values, shape: [values.count / 4, 4])
    }
}
