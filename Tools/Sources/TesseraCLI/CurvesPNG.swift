import Training
import Vision

/// `curves.png` beside `curves.svg`: loss and accuracy panels of every split in `history`
/// (Training writes the SVG; the raster chart and font live in Vision).
func writeCurvesPNG(_ history: TrainingHistory, to directory: String, xLabel: String = "epoch") throws {
    let colors: [(Float, Float, Float)] = [(0.12, 0.47, 0.71), (0.84, 0.15, 0.16), (0.17, 0.63, 0.17), (0.58, 0.40, 0.74)]
    let names = history.metricNames
    let panels: [ChartPanel] = ["loss", "accuracy"].compactMap { kind in
        let matching = names.filter { $0.hasSuffix("_" + kind) }
        guard !matching.isEmpty else { return nil }
        return ChartPanel(title: kind, xLabel: xLabel, series: matching.enumerated().map { i, name in
            ChartSeries(name: String(name.dropLast(kind.count + 1)), values: history.values(of: name), color: colors[i % colors.count])
        })
    }
    guard !panels.isEmpty else { return }
    do { try saveLineChartPNG(panels, to: directory + "/curves.png") } catch {
        throw TrainingError.cannotWrite(path: directory + "/curves.png", reason: "\(error)")
    }
}
