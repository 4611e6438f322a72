/// A trainer log that passes every line of a short run (20 epochs or fewer) and, of a long
/// one, every `n`th epoch's line: a forecaster's hundreds of sub-second epochs would bury
/// the figures. Lines that are not epoch lines always pass.
func thinnedEpochLog(every n: Int, epochs: Int, _ log: @escaping (String) -> Void) -> (String) -> Void {
    { line in
        guard epochs > 20, line.hasPrefix("epoch "),
              let number = Int(line.dropFirst(6).prefix { $0.isNumber }) else { return log(line) }
        if number % n == 0 || number == epochs { log(line) }
    }
}
