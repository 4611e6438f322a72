import Vision

extension Trainer {
    /// `curves.png` beside `curves.svg`: loss and accuracy panels of every split in `history`,
    /// with axis labels and a legend (the raster chart and its font live in Vision).
    static func writeCurvesPNG(_ history: TrainingHistory, to directory: String, xLabel: String) throws {
        let colors: [(Float, Float, Float)] = [(0.12, 0.47, 0.71), (0.84, 0.15, 0.16), (0.17, 0.63, 0.17), (0.58, 0.40, 0.74)]
        let panels = history.curves.map { curve in
            ChartPanel(title: curve.kind, xLabel: xLabel, series: curve.series.enumerated().map { i, s in
                ChartSeries(name: s.split, values: s.values, color: colors[i % colors.count])
            })
        }
        guard !panels.isEmpty else { return }
        do { try saveLineChartPNG(panels, to: directory + "/curves.png") } catch {
            throw TrainingError.cannotWrite(path: directory + "/curves.png", reason: "\(error)")
        }
    }
}
