import Foundation
import NN
import TensorCore
import Vision

/// How to build a `GridDetector`: `Codable` for results and checkpoints.
public struct GridDetectorConfiguration: Codable, Equatable, Sendable {
    /// Square input side in pixels (a multiple of 8: three 2× poolings make the grid).
    public var imageSize: Int
    /// Image channels.
    public var channels: Int
    /// Classes detected.
    public var classes: Int
    /// Channels of the backbone's four convolution blocks.
    public var widths: [Int]
    /// The box size (pixels) the width and height predictions scale: `w = prior · exp(t_w)`.
    public var boxPrior: Double

    /// A detector for `imageSize`² images; the defaults suit the shapes dataset.
    public init(imageSize: Int = 64, channels: Int = 3, classes: Int = 3, widths: [Int] = [16, 32, 64, 64], boxPrior: Double = 18) {
        self.imageSize = imageSize
        self.channels = channels
        self.classes = classes
        self.widths = widths
        self.boxPrior = boxPrior
    }

    /// Cells along each side (`imageSize / 8`).
    public var gridSize: Int { imageSize / 8 }
    /// Pixels per cell.
    public var cellSize: Double { 8 }
}

/// A single-shot detector in the manner of YOLO (Redmon et al. 2016): a small convolutional
/// backbone (three conv–batch-norm–ReLU blocks each followed by 2× max pooling, then one more
/// block) maps the image to an `S × S` grid, and a 1×1 convolution predicts for every cell an
/// objectness logit, a box (centre offsets within the cell through a sigmoid, width and
/// height as `prior · exp(t)`) and class logits. The object whose centre falls in a cell is
/// that cell's to predict.
///
/// Shape: `[N, channels, size, size] -> [N, S, S, 5 + classes]` (raw outputs).
public final class GridDetector: Module {
    /// The shape it was built from.
    public let configuration: GridDetectorConfiguration
    /// The convolutional backbone.
    public let backbone: Sequential
    /// Per-cell predictions.
    public let head: Conv2d

    /// A detector of `configuration`'s shape, initialised from `generator`.
    public init(_ configuration: GridDetectorConfiguration, generator: RandomGenerator? = nil) {
        let c = configuration
        tensorCheck(c.imageSize > 0 && c.imageSize % 8 == 0 && c.widths.count == 4 && c.widths.allSatisfy({ $0 > 0 })
                    && c.classes > 0 && c.channels > 0 && c.boxPrior > 0,
                    "[GridDetector] image size \(c.imageSize) must be a positive multiple of 8, widths \(c.widths) four positive "
                    + "channel counts, classes \(c.classes), channels \(c.channels) and box prior \(c.boxPrior) positive")
        self.configuration = c
        var modules: [Module] = [], channels = c.channels
        for (k, width) in c.widths.enumerated() {
            modules += [Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, bias: false, generator: generator),
                        BatchNorm2d(featureCount: width), ReLU()]
            if k < 3 { modules.append(MaxPool2d(kernelSize: 2)) }
            channels = width
        }
        backbone = Sequential(modules)
        head = Conv2d(inputChannels: channels, outputChannels: 5 + c.classes, kernelSize: 1, generator: generator)
        super.init()
        // Start the objectness at a low prior (RetinaNet's π = 0.01): most cells hold nothing.
        withoutGradients {
            var bias = head.bias!.value.scalars(as: Float.self)
            bias[0] = Float(-Foundation.log(99.0))
            head.bias!.value = Tensor(bias, shape: [5 + c.classes])
        }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let c = configuration
        tensorCheck(x.rank == 4 && Array(x.shape.dropFirst()) == [c.channels, c.imageSize, c.imageSize],
                    "[GridDetector] input \(shapeText(x.shape)) should be [N, \(c.channels), \(c.imageSize), \(c.imageSize)]")
        return head(backbone(x)).permuted(0, 2, 3, 1)
    }

    /// Each cell's box in pixels `[N, S, S, 4]` (x1, y1, x2, y2) from the raw outputs.
    public func decodeBoxes(_ output: Tensor) -> Tensor {
        let c = configuration, s = c.gridSize
        let columns = Tensor((0..<s).map(Double.init), shape: [1, 1, s, 1]).cast(to: output.dtype)
        let rows = Tensor((0..<s).map(Double.init), shape: [1, s, 1, 1]).cast(to: output.dtype)
        let cx = (output.narrowed(axis: 3, start: 1, length: 1).sigmoid() + columns) * c.cellSize
        let cy = (output.narrowed(axis: 3, start: 2, length: 1).sigmoid() + rows) * c.cellSize
        // Clamped before the exponential so an early wild logit cannot overflow.
        let w = output.narrowed(axis: 3, start: 3, length: 1).clamped(min: -4, max: 4).exp() * c.boxPrior
        let h = output.narrowed(axis: 3, start: 4, length: 1).clamped(min: -4, max: 4).exp() * c.boxPrior
        return Tensor.concatenated([cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5], axis: 3)
    }

    /// The training targets of a batch: for every cell whether it holds an object's centre, and
    /// for those cells the object's box and class. Where two centres share a cell the larger
    /// object is kept.
    public struct Targets {
        /// `[N, S, S]` 1 where a cell is responsible for an object.
        public var objectness: Tensor
        /// Flat indices (`n·S² + row·S + column`) of the responsible cells.
        public var cells: [Int]
        /// Their objects' boxes `[P, 4]` and classes `[P]`.
        public var boxes: Tensor, classes: Tensor
    }

    /// Assigns `truth`'s objects to the cells containing their centres.
    public func targets(_ truth: [ImageDetections]) -> Targets {
        let c = configuration, s = c.gridSize
        var objectness = [Float](repeating: 0, count: truth.count * s * s)
        var owner: [Int: (area: Double, box: [Double], cls: Int)] = [:]
        for (n, image) in truth.enumerated() {
            let b = image.boxes.cast(to: .float64).contiguous().scalars(as: Double.self)
            for k in 0..<image.count {
                let box = Array(b[4 * k ..< 4 * k + 4])
                let cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2
                let column = Swift.min(Swift.max(Int(cx / c.cellSize), 0), s - 1), row = Swift.min(Swift.max(Int(cy / c.cellSize), 0), s - 1)
                let cell = n * s * s + row * s + column, area = (box[2] - box[0]) * (box[3] - box[1])
                if let existing = owner[cell], existing.area >= area { continue }
                owner[cell] = (area, box, image.classes[k])
                objectness[cell] = 1
            }
        }
        let cells = owner.keys.sorted()
        return Targets(objectness: Tensor(objectness, shape: [truth.count, s, s]), cells: cells,
                       boxes: Tensor(cells.flatMap { owner[$0]!.box }, shape: [cells.count, 4]).cast(to: .float32),
                       classes: Tensor(cells.map { Int64(owner[$0]!.cls) }))
    }

    /// The detection loss of raw `output` against `targets`: binary cross-entropy of the
    /// objectness over every cell, plus, over the responsible cells, `boxWeight` times the
    /// GIoU loss of the decoded boxes and the classes' cross-entropy.
    public func loss(_ output: Tensor, _ targets: Targets, boxWeight: Double = 2) -> (total: Tensor, objectness: Tensor, box: Tensor, classes: Tensor) {
        let objectness = binaryCrossEntropyWithLogits(logits: output.narrowed(axis: 3, start: 0, length: 1).squeezed(axis: 3),
                                                      targets: targets.objectness.cast(to: output.dtype))
        guard !targets.cells.isEmpty else {
            let zero = Tensor.zeros([], dtype: output.dtype)
            return (objectness, objectness, zero, zero)
        }
        let c = configuration
        let index = Tensor(targets.cells.map(Int64.init))
        let boxes = decodeBoxes(output).reshaped(to: [-1, 4]).indexSelect(axis: 0, indices: index)
        let logits = output.narrowed(axis: 3, start: 5, length: c.classes).reshaped(to: [-1, c.classes]).indexSelect(axis: 0, indices: index)
        let box = Boxes.generalizedIoULoss(boxes, targets.boxes.cast(to: output.dtype)).mean()
        let classes = crossEntropy(logits: logits, targets: targets.classes)
        return (objectness + box * boxWeight + classes, objectness, box, classes)
    }

    /// Detections of a batch of images: every cell's box scored by objectness × class
    /// probability, those above `scoreThreshold` kept, then per-class non-maximum suppression
    /// at `iouThreshold`, at most `maxDetections` per image. Runs without gradients in eval mode.
    public func detect(_ images: Tensor, scoreThreshold: Double = 0.05, iouThreshold: Double = 0.5, maxDetections: Int = 20) -> [ImageDetections] {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            let output = self(images), c = configuration, s = c.gridSize, n = images.shape[0]
            let boxes = decodeBoxes(output).clamped(min: 0, max: Double(c.imageSize)).reshaped(to: [n, s * s, 4])
            let objectness = output.narrowed(axis: 3, start: 0, length: 1).sigmoid().reshaped(to: [n, s * s])
            let probabilities = output.narrowed(axis: 3, start: 5, length: c.classes).softmax(axis: -1).reshaped(to: [n, s * s, c.classes])
            let best = probabilities.max(axis: 2), classes = probabilities.argmax(axis: 2)
            let scores = (objectness * best).cast(to: .float64).contiguous().scalars(as: Double.self)
            let labels = classes.scalars(as: Int64.self)
            return (0..<n).map { i in
                let cells = (0..<(s * s)).filter { scores[i * s * s + $0] > scoreThreshold }
                guard !cells.isEmpty else { return ImageDetections(boxes: Tensor.zeros([0, 4]), classes: []) }
                let picked = boxes[i].indexSelect(axis: 0, indices: Tensor(cells.map(Int64.init)))
                let cellScores = cells.map { scores[i * s * s + $0] }, cellClasses = cells.map { Int(labels[i * s * s + $0]) }
                let kept = NonMaximumSuppression.indices(boxes: picked, scores: Tensor(cellScores), classes: cellClasses,
                                                         iouThreshold: iouThreshold).prefix(maxDetections)
                return ImageDetections(boxes: picked.indexSelect(axis: 0, indices: Tensor(kept.map(Int64.init))),
                                       classes: kept.map { cellClasses[$0] }, scores: kept.map { cellScores[$0] })
            }
        }
    }
}
