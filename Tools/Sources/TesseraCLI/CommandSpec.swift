/// One option of a command: its name, the placeholder of its value (nil for a flag) and its
/// help line.
struct OptionSpec {
    let name: String
    let placeholder: String?
    let help: String

    init(_ name: String, _ placeholder: String?, _ help: String) {
        self.name = name
        self.placeholder = placeholder
        self.help = help
    }

    // Options several commands share, with one wording.
    /// `--threads N` (checked against the machine's cores by `CommandChecks.threads`).
    static let threads = OptionSpec("threads", "N", "CPU threads for kernels and OpenBLAS (default and most: all cores)")
    /// `--resume`, with `--checkpoint-dir`.
    static let resume = OptionSpec("resume", nil, "continue from the newest checkpoint in --checkpoint-dir")
    /// `--data DIR`.
    static let data = OptionSpec("data", "DIR", "dataset root (default Datasets/data, or $TESSERA_DATA)")
    /// The options `RunOptions` reads, in the order help lists them: `--seed`, `--threads`,
    /// `--out` (default `out`), `--checkpoint-dir`, `--resume` and, with `data`, `--data`.
    static func runOptions(out: String, data: Bool = true) -> [OptionSpec] {
        [OptionSpec("seed", "S", "initialisation, shuffling and sampling seed (default 0)"), threads,
         OptionSpec("out", "DIR", "output directory (default \(out))"),
         OptionSpec("checkpoint-dir", "D", "save the model, the optimizer state and the position every epoch (keeps 3)"),
         resume] + (data ? [Self.data] : [])
    }
    /// `--device D` (resolved by `DeviceOption`).
    static let device = OptionSpec("device", "D", "cpu (default), cuda or cuda:N (needs a usable GPU: the reason is printed otherwise)")
}

/// A command's declarative option table: the parser accepts exactly these options (misspelt
/// ones are errors that name the nearest), and `--help` is generated from the same table, so
/// the two cannot disagree.
struct CommandSpec {
    let usage: String
    let summary: String
    let options: [OptionSpec]
    var footer: String? = nil

    /// `usage: …`, the summary, one aligned line per option and `--help`.
    var help: String {
        let all = options + [OptionSpec("help", nil, "show this help")]
        let labels = all.map { "--\($0.name)" + ($0.placeholder.map { " \($0)" } ?? "") }
        let column = (labels.map(\.count).max() ?? 0) + 2
        var text = "usage: \(usage)\n\n\(summary)\n\noptions:\n"
        for (label, option) in zip(labels, all) {
            text += "  " + label.padding(toLength: column, withPad: " ", startingAt: 0) + option.help + "\n"
        }
        if let footer { text += footer + "\n" }
        return text
    }

    /// Parses `arguments` against the table; `--help` throws the generated help.
    func parse(_ arguments: [String]) throws -> Arguments {
        let args = try Arguments(arguments, valueOptions: Set(options.filter { $0.placeholder != nil }.map(\.name)),
                                 flagOptions: Set(options.filter { $0.placeholder == nil }.map(\.name)).union(["help"]))
        if args.flag("help") { throw HelpRequested(text: help) }
        return args
    }
}
