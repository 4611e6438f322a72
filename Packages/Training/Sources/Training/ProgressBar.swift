import Foundation

/// A one-line progress bar with rate and ETA, redrawn in place on a terminal and printed
/// once at the end otherwise (logs stay readable).
/// The one progress bar of every command and of `Trainer`.
public final class ProgressBar {
    /// Steps in all.
    public let total: Int
    /// What the bar is for (`epoch 3/10`).
    public let label: String
    /// What the rate counts (`samples`, `tokens`).
    public let unit: String
    let interactive = isatty(2) != 0
    let start = Date()
    var lastDraw = Date.distantPast

    /// A bar over `total` steps.
    public init(total: Int, label: String, unit: String = "samples") {
        self.total = total
        self.label = label
        self.unit = unit
    }

    /// The bar's text after `done` steps and `work` units: progress, rate, ETA, status.
    public func line(done: Int, work: Int, status: String) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(work) / Swift.max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 20
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "\(label) [\(bar)] \(done)/\(total)  \(Int(rate)) \(unit)/s  eta \(String(format: "%.1f", eta))s  \(status)"
    }

    /// Redraws at most every 0.2 s.
    public func update(done: Int, work: Int, status: String) {
        guard interactive, Date().timeIntervalSince(lastDraw) > 0.2 || done == total else { return }
        lastDraw = Date()
        FileHandle.standardError.write(Data(("\r" + line(done: done, work: work, status: status) + "\u{1B}[K").utf8))
    }

    /// Prints the final line (once, also when standard error is not a terminal).
    public func finish(done: Int, work: Int, status: String) {
        let text = line(done: done, work: work, status: status)
        FileHandle.standardError.write(Data(((interactive ? "\r" : "") + text + (interactive ? "\u{1B}[K" : "") + "\n").utf8))
    }
}
