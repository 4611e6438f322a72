import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Detection

let fixtures = JSONFixtures("Fixtures/fixtures.json")

func ints(_ path: String...) -> [Int] { (fixtures.value(path) as! [NSNumber]).map(\.intValue) }

@Suite("Boxes, suppression and average precision against torchvision and VOC")
struct BoxTests {
    let tight = Tolerance(absolute: 1e-12, relative: 1e-12)

    @Test func iouAndGeneralizedIoUMatchTorchvision() {
        let a = fixtures.tensor("pairs", "a"), b = fixtures.tensor("pairs", "b")
        expectClose(Boxes.iou(a, b), fixtures.tensor("pairs", "iou"), tolerance: tight)
        expectClose(Boxes.generalizedIoU(a, b), fixtures.tensor("pairs", "giou"), tolerance: tight)
        #expect(abs(Boxes.iou(a, b)[0, 0].item(as: Double.self) - 1) < 1e-12)
        // The matched-pairs loss is 1 − the diagonal.
        let n = 5, first = a.narrowed(axis: 0, start: 0, length: n)
        let diagonal = (0..<n).map { Boxes.generalizedIoU(a, b)[$0, $0].item(as: Double.self) }
        expectClose(Boxes.generalizedIoULoss(first, b), diagonal.map { 1 - $0 }, shape: [n], tolerance: tight)
    }

    @Test func giouLossGradientsMatchFiniteDifferences() {
        let target = fixtures.tensor("pairs", "b")
        let start = target + Tensor.randn([5, 4], dtype: .float64, generator: RandomGenerator(seed: 1)) * 0.5
        GradientCheck.check([start]) { Boxes.generalizedIoULoss($0[0], target).sum() }
    }

    @Test func encodingMatchesTheBoxCoderAndInverts() {
        let anchors = fixtures.tensor("coder", "anchors"), boxes = fixtures.tensor("coder", "boxes")
        let deltas = Boxes.encode(boxes, anchors: anchors, weights: (10, 10, 5, 5))
        expectClose(deltas, fixtures.tensor("coder", "deltas"), tolerance: tight)
        expectClose(Boxes.decode(deltas, anchors: anchors, weights: (10, 10, 5, 5)), boxes, tolerance: Tolerance(absolute: 1e-10, relative: 1e-12))
        expectClose(Boxes.toCorners(Boxes.toCenterSize(boxes)), boxes, tolerance: tight)
    }

    @Test func anchorsAreCentredOnCellsInTorchvisionsOrder() {
        let anchors = Boxes.anchors(gridHeight: 2, gridWidth: 3, stride: 8, sizes: [4, 8], aspectRatios: [0.5, 1, 2])
        #expect(anchors.shape == [2 * 3 * 2 * 3, 4])
        // Cell (row 1, column 2) starts at index (1·3 + 2)·6; its first anchor: ratio 0.5, size 4.
        let w = 4 / 0.5.squareRoot(), h = 4 * 0.5.squareRoot()
        expectClose(anchors[30], [20 - w / 2, 12 - h / 2, 20 + w / 2, 12 + h / 2], shape: [4], tolerance: tight)
        let sizes = Boxes.toCenterSize(anchors)
        let areas = (sizes.narrowed(axis: 1, start: 2, length: 1) * sizes.narrowed(axis: 1, start: 3, length: 1)).scalars(as: Double.self)
        #expect(areas.enumerated().allSatisfy { abs($0.element - [16.0, 64][$0.offset % 2]) < 1e-9 })
    }

    @Test func suppressionMatchesTorchvision() {
        let boxes = fixtures.tensor("nms", "boxes"), scores = fixtures.tensor("nms", "scores")
        #expect(NonMaximumSuppression.indices(boxes: boxes, scores: scores, iouThreshold: 0.5) == ints("nms", "keep_0.5"))
        #expect(NonMaximumSuppression.indices(boxes: boxes, scores: scores, iouThreshold: 0.3) == ints("nms", "keep_0.3"))
        #expect(NonMaximumSuppression.indices(boxes: boxes, scores: scores, classes: ints("nms", "classes"), iouThreshold: 0.5)
                == ints("nms", "batched_keep_0.5"))
        #expect(NonMaximumSuppression.indices(boxes: Tensor.zeros([0, 4]), scores: Tensor.zeros([0]), iouThreshold: 0.5).isEmpty)
    }

    @Test func averagePrecisionMatchesVOC() {
        let images = fixtures.value(["ap", "images"]) as! [[String: Any]]
        func tensor(_ object: Any) -> Tensor { JSONFixtures.tensor(from: object) }
        let truth = images.map { ImageDetections(boxes: tensor($0["truth_boxes"]!), classes: ($0["truth_classes"] as! [NSNumber]).map(\.intValue)) }
        let found = images.map {
            ImageDetections(boxes: tensor($0["boxes"]!), classes: ($0["classes"] as! [NSNumber]).map(\.intValue),
                            scores: ($0["scores"] as! [String]).map { Double($0)! })
        }
        let result = AveragePrecision.evaluate(detections: found, groundTruth: truth, classes: 3)
        let expected = (fixtures.value(["ap", "per_class"]) as! [String]).map { Double($0)! }
        #expect(zip(result.perClass, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(result.perClass) vs \(expected)")
        #expect(abs(result.mean - Double(fixtures.value(["ap", "mean"]) as! String)!) < 1e-12)
        // Perfect detections score 1; none score 0.
        #expect(AveragePrecision.evaluate(detections: truth, groundTruth: truth, classes: 3).mean == 1)
        let empty = truth.map { _ in ImageDetections(boxes: Tensor.zeros([0, 4]), classes: []) }
        #expect(AveragePrecision.evaluate(detections: empty, groundTruth: truth, classes: 3).mean == 0)
    }

    @Test func boxesWithNegativeSizeStopNamingTheBox() async {
        await #expect(processExitsWith: .failure) {
            _ = Boxes.iou(Tensor([0, 0, 5, 5, 3, 3, 1, 4] as [Double], shape: [2, 4]), Tensor([0, 0, 1, 1] as [Double], shape: [1, 4]))
        }
    }
}

@Suite("Shapes dataset and the grid detector")
struct DetectorTests {
    @Test func shapesAreSeededInBoundsAndApart() {
        let a = ShapesDataset(count: 20, seed: 3), b = ShapesDataset(count: 20, seed: 3)
        #expect(a.images.shape == [20, 3, 64, 64])
        #expect(a.images.scalars(as: Float.self) == b.images.scalars(as: Float.self))
        for image in a.targets {
            #expect((1...5).contains(image.count))
            let v = image.boxes.scalars(as: Float.self)
            #expect(v.allSatisfy { $0 >= 0 && $0 <= 64 })
            if image.count > 1 {
                let iou = Boxes.iou(image.boxes, image.boxes).scalars(as: Float.self)
                for i in 0..<image.count { for j in 0..<image.count where i != j { #expect(iou[i * image.count + j] == 0) } }
            }
        }
        // A square's box is filled with its colour; a circle's corner keeps the background.
        let square = a.targets.enumerated().first { $0.element.classes.contains(1) }!
        let k = square.element.classes.firstIndex(of: 1)!, box = square.element.boxes[k].scalars(as: Float.self).map(Int.init)
        let corner = a.images[square.offset, .all, box[1], box[0]].scalars(as: Float.self)
        #expect(corner.allSatisfy { $0 >= 0.55 })
    }

    @Test func targetsAssignCentresToTheirCells() {
        let detector = GridDetector(GridDetectorConfiguration(), generator: RandomGenerator(seed: 0))
        let truth = [ImageDetections(boxes: Tensor([2, 2, 14, 14, 40, 8, 60, 30] as [Float], shape: [2, 4]), classes: [2, 0])]
        let targets = detector.targets(truth)
        // Centres (8, 8) -> cell (1, 1); (50, 19) -> cell (2, 6).
        #expect(targets.cells == [1 * 8 + 1, 2 * 8 + 6])
        #expect(targets.objectness.sum().item(as: Float.self) == 2)
        #expect(targets.classes.scalars(as: Int64.self) == [2, 0])
    }

    @Test func lossGradientsMatchFiniteDifferences() {
        let c = GridDetectorConfiguration(imageSize: 16, classes: 2, widths: [2, 2, 2, 3], boxPrior: 6)
        let detector = GridDetector(c, generator: RandomGenerator(seed: 1))
        for p in detector.parameters() { p.value = p.value.cast(to: .float64) }
        for (_, b) in detector.namedBuffers() { b.value = b.value.cast(to: .float64) }
        let images = Tensor.rand([2, 3, 16, 16], dtype: .float64, generator: RandomGenerator(seed: 2))
        let truth = [ImageDetections(boxes: Tensor([1, 1, 7, 6] as [Double], shape: [1, 4]), classes: [1]),
                     ImageDetections(boxes: Tensor([9, 2, 15, 10, 2, 9, 6, 15] as [Double], shape: [2, 4]), classes: [0, 1])]
        let targets = detector.targets(truth)
        GradientCheck.checkParameters(detector.parameters()) { detector.loss(detector(images), targets).total }
    }

    @Test func aShortRunLearnsToFindShapes() throws {
        var c = DetectionExperiment.Configuration()
        c.detector = GridDetectorConfiguration(imageSize: 32, widths: [8, 16, 16, 16], boxPrior: 12)
        c.trainImages = 256
        c.testImages = 64
        c.epochs = 6
        c.batchSize = 16
        let result = try DetectionExperiment.run(c, log: { _ in })
        let maps = result.history.values(of: "test_map")
        #expect(maps.last! > maps.first! && result.final["test_map"]! > 0.2, "\(maps)")
        #expect(result.detections.count == 64)
        let path = NSTemporaryDirectory() + "tessera-detections-\(UInt64.random(in: 0..<UInt64.max)).png"
        try saveDetectionGrid(result.test.images.narrowed(axis: 0, start: 0, length: 4), detections: Array(result.detections.prefix(4)),
                              truth: Array(result.test.targets.prefix(4)), classNames: ShapesDataset.classNames, to: path)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
