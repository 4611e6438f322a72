import Foundation
import Testing
import TensorCore
@testable import Vision

@Suite("Labelled image grids")
struct LabelledGridTests {
    @Test func glyphsLandWhereTheirBitsSay() {
        var pixels = [Float](repeating: 1, count: 3 * 9 * 7)
        BitmapFont.draw("T", into: &pixels, width: 7, height: 9, x: 1, y: 1, color: (0, 0, 0))
        // "T": a full top row, then the middle column.
        #expect((1...5).allSatisfy { pixels[1 * 7 + $0] == 0 })
        #expect((2...7).allSatisfy { pixels[$0 * 7 + 3] == 0 && pixels[$0 * 7 + 2] == 1 })
        #expect(BitmapFont.width(of: "AB", scale: 2) == 22)
    }

    @Test func labelsAreDrawnUnderTheImagesAndMistakesInRed() throws {
        let images = Tensor.rand([3, 1, 8, 8], generator: RandomGenerator(seed: 1))
        let path = NSTemporaryDirectory() + "tessera-labelled-\(getpid()).png"
        try saveLabelledImageGrid(images, predicted: ["BAG", "COAT", "DRESS"], truth: ["BAG", "SHIRT", "DRESS"],
                                  to: path, columns: 3, scale: 4)
        let grid = try PNG.read(path)
        // Three tiles side by side, each wide enough for its longest label, two caption lines tall.
        let tile = Swift.max(8 * 4, BitmapFont.width(of: "DRESS", scale: 2))
        #expect(grid.shape == [3, 8 + 8 * 4 + 2 * 20 + 8, 8 + 3 * (tile + 8)])
        let r = grid[0], g = grid[1]
        let red = ((r - g) .> Tensor.full(r.shape, value: 0.5)).cast(to: .float32).sum().item()
        #expect(red > 20, "the wrong prediction is drawn in red")
        // The caption band under the first image has dark (text) pixels.
        let caption = grid[0][(8 + 32)..<(8 + 32 + 20), 8..<(8 + tile)]
        #expect((caption .< Tensor.full(caption.shape, value: 0.2)).cast(to: .float32).sum().item() > 20)
    }

    @Test func chartTicksHaveThreeSignificantDigitsAndPNGChartsDrawTheirCurves() throws {
        #expect(Canvas.tick(0.61377) == "0.614" && Canvas.tick(12.5) == "12.5" && Canvas.tick(2000) == "2000")
        #expect(Canvas.tick(0) == "0" && Canvas.tick(-0.25) == "-0.25" && Canvas.tick(0.00001234) == "1.23E-5")
        let path = NSTemporaryDirectory() + "tessera-chart-\(getpid()).png"
        try saveLineChartPNG([ChartPanel(title: "loss", xLabel: "epoch", series: [
            ChartSeries(name: "train", values: [1, 0.5, .nan, 0.25], color: (1, 0, 0))])], to: path, panelWidth: 300, height: 200)
        let chart = try PNG.read(path)
        #expect(chart.shape == [3, 200, 300])
        let red = ((chart[0] - chart[1]) .> Tensor.full([200, 300], value: 0.9)).cast(to: .float32).sum().item()
        #expect(red > 100, "the curve and its legend are drawn in the series' colour")
    }

    @Test func confusionMatrixCellsAreShadedByTheirRowShare() throws {
        let path = NSTemporaryDirectory() + "tessera-confusion-\(getpid()).png"
        let counts = [[9, 1], [0, 3]]
        try saveConfusionMatrixPNG(counts, classNames: ["CAT", "DOG"], to: path, cell: 40)
        let image = try PNG.read(path)
        let width = image.shape[2], height = image.shape[1]
        // The grid's top-left corner: left of it the row labels, above it the title and column names.
        let labelWidth = BitmapFont.width(of: "CAT", scale: 2) + 12, top = 7 * 2 + 24 + labelWidth
        #expect(width == labelWidth + 2 * 40 + 12 && height == top + 2 * 40 + 7 * 2 + 24)
        func red(_ t: Int, _ p: Int) -> Float { image[0][top + t * 40 + 1, labelWidth + p * 40 + 1].item() }
        // Red falls with the share: 0.9 and 1.0 of their rows are darker than 0.1 and 0.
        #expect(abs(red(0, 0) - (1 - 0.9 * 0.9)) < 0.01 && abs(red(1, 1) - 0.1) < 0.01)
        #expect(abs(red(0, 1) - (1 - 0.9 * 0.1)) < 0.01 && red(1, 0) > 0.99)
        #expect(throws: Never.self) { try saveConfusionMatrixPNG([[0]], to: path) }
    }
}
