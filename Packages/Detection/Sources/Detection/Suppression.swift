import TensorCore

/// Non-maximum suppression as torchvision's `nms` and `batched_nms`.
public enum NonMaximumSuppression {
    /// Indices of the boxes kept, by decreasing score: a box is dropped when its IoU with a
    /// kept, higher-scoring box exceeds `iouThreshold`.
    public static func indices(boxes: Tensor, scores: Tensor, iouThreshold: Double) -> [Int] {
        Boxes.check(boxes, "NonMaximumSuppression")
        tensorCheck(scores.shape == [boxes.shape[0]], "[NonMaximumSuppression] scores \(shapeText(scores.shape)) for \(boxes.shape[0]) boxes")
        let n = boxes.shape[0]
        guard n > 0 else { return [] }
        let b = withoutGradients { boxes.cast(to: .float64).contiguous().scalars(as: Double.self) }
        let s = withoutGradients { scores.cast(to: .float64).scalars(as: Double.self) }
        // Stable order: equal scores keep their input order.
        let order = (0..<n).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        func area(_ i: Int) -> Double { (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]) }
        var kept: [Int] = [], suppressed = [Bool](repeating: false, count: n)
        for (rank, i) in order.enumerated() where !suppressed[i] {
            kept.append(i)
            for j in order[(rank + 1)...] where !suppressed[j] {
                let w = max(0, min(b[4 * i + 2], b[4 * j + 2]) - max(b[4 * i], b[4 * j]))
                let h = max(0, min(b[4 * i + 3], b[4 * j + 3]) - max(b[4 * i + 1], b[4 * j + 1]))
                let inter = w * h, union = area(i) + area(j) - inter
                if union > 0 && inter / union > iouThreshold { suppressed[j] = true }
            }
        }
        return kept
    }

    /// Suppression within each class only (`batched_nms`): boxes of different `classes` never
    /// suppress each other. Indices by decreasing score.
    public static func indices(boxes: Tensor, scores: Tensor, classes: [Int], iouThreshold: Double) -> [Int] {
        tensorCheck(classes.count == boxes.shape.first, "[NonMaximumSuppression] \(classes.count) classes for \(boxes.shape.first ?? 0) boxes")
        let s = withoutGradients { scores.cast(to: .float64).scalars(as: Double.self) }
        var kept: [Int] = []
        for c in Set(classes).sorted() {
            let members = classes.indices.filter { classes[$0] == c }
            let index = Tensor(members.map(Int64.init))
            let local = indices(boxes: boxes.indexSelect(axis: 0, indices: index), scores: scores.indexSelect(axis: 0, indices: index),
                                iouThreshold: iouThreshold)
            kept += local.map { members[$0] }
        }
        return kept.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
    }
}

/// One image's detections or ground truth: boxes `[N, 4]` (x1, y1, x2, y2), class indices and,
/// for detections, scores.
public struct ImageDetections {
    /// Corners, `[N, 4]`.
    public var boxes: Tensor
    /// Class index per box.
    public var classes: [Int]
    /// Confidence per box (ground truth: all 1).
    public var scores: [Double]

    /// Boxes with their classes and scores (default 1 each: ground truth).
    public init(boxes: Tensor, classes: [Int], scores: [Double]? = nil) {
        Boxes.check(boxes, "ImageDetections")
        tensorCheck(classes.count == boxes.shape[0] && (scores?.count ?? classes.count) == classes.count,
                    "[ImageDetections] \(boxes.shape[0]) boxes, \(classes.count) classes and \(scores?.count ?? classes.count) scores")
        self.boxes = boxes
        self.classes = classes
        self.scores = scores ?? Array(repeating: 1, count: classes.count)
    }

    /// Boxes in the image.
    public var count: Int { classes.count }
}

/// PASCAL VOC's average precision (the 2010+ all-point interpolation of `voc_eval.py`): per
/// class, detections over every image sorted by score, each a true positive when its IoU with
/// a not yet matched ground-truth box of its class reaches `iouThreshold`; AP is the area
/// under the precision envelope.
public enum AveragePrecision {
    /// The AP of each class in `0..<classes` (NaN for a class with no ground truth) and their
    /// mean over the classes that have ground truth (mAP).
    public static func evaluate(detections: [ImageDetections], groundTruth: [ImageDetections], classes: Int,
                                iouThreshold: Double = 0.5) -> (perClass: [Double], mean: Double) {
        tensorCheck(detections.count == groundTruth.count, "[AveragePrecision] \(detections.count) detection lists for \(groundTruth.count) images")
        tensorCheck(iouThreshold > 0 && iouThreshold <= 1, "[AveragePrecision] IoU threshold \(iouThreshold) outside (0, 1]")
        var perClass: [Double] = []
        for c in 0..<classes {
            var candidates: [(score: Double, image: Int, box: Int)] = []
            var truthCount = 0
            var matched: [[Bool]] = []
            var overlaps: [Tensor?] = []
            for (image, (found, truth)) in zip(detections, groundTruth).enumerated() {
                let truthIndices = truth.classes.indices.filter { truth.classes[$0] == c }
                let foundIndices = found.classes.indices.filter { found.classes[$0] == c }
                truthCount += truthIndices.count
                matched.append([Bool](repeating: false, count: truthIndices.count))
                for k in foundIndices { candidates.append((found.scores[k], image, k)) }
                if truthIndices.isEmpty || foundIndices.isEmpty { overlaps.append(nil); continue }
                // IoU of every detection of the image (all classes, rows) with its class-c truths.
                overlaps.append(Boxes.iou(found.boxes, truth.boxes.indexSelect(axis: 0, indices: Tensor(truthIndices.map(Int64.init))))
                    .cast(to: .float64))
            }
            guard truthCount > 0 else { perClass.append(.nan); continue }
            candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.image, $0.box) < ($1.image, $1.box) }
            var truePositive: [Double] = [], cache: [Int: [Double]] = [:]
            for candidate in candidates {
                guard let overlap = overlaps[candidate.image] else { truePositive.append(0); continue }
                let row = cache[candidate.image * 1_000_003 + candidate.box] ?? overlap[candidate.box].scalars(as: Double.self)
                cache[candidate.image * 1_000_003 + candidate.box] = row
                let best = row.indices.max { row[$0] < row[$1] }!
                if row[best] >= iouThreshold && !matched[candidate.image][best] {
                    matched[candidate.image][best] = true
                    truePositive.append(1)
                } else {
                    truePositive.append(0)
                }
            }
            perClass.append(area(truePositive: truePositive, truthCount: truthCount))
        }
        let present = perClass.filter { !$0.isNaN }
        return (perClass, present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count))
    }

    /// VOC's all-point AP from the true-positive flags of detections sorted by score.
    static func area(truePositive: [Double], truthCount: Int) -> Double {
        var tp = 0.0, fp = 0.0
        var recall: [Double] = [0], precision: [Double] = [0]
        for flag in truePositive {
            tp += flag
            fp += 1 - flag
            recall.append(tp / Double(truthCount))
            precision.append(tp / Swift.max(tp + fp, Double.leastNonzeroMagnitude))
        }
        recall.append(1)
        precision.append(0)
        // The precision envelope, then the area under its steps where recall changes.
        for i in stride(from: precision.count - 2, through: 0, by: -1) { precision[i] = Swift.max(precision[i], precision[i + 1]) }
        var ap = 0.0
        for i in 1..<recall.count where recall[i] != recall[i - 1] { ap += (recall[i] - recall[i - 1]) * precision[i] }
        return ap
    }
}
