/// A command-line mistake: printed with the command's usage, exit code 2.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Hand-written parsing of `--name value`, `--name=value` and `--flag` options.
public struct Arguments {
    public private(set) var values: [String: String] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positional: [String] = []

    /// `valueOptions` take a value; `flagOptions` do not. Anything else is an error.
    public init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String> = ["help"]) throws {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("--") else { positional.append(argument); continue }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flagOptions.contains(name) {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
            } else if valueOptions.contains(name) {
                if let inlineValue {
                    values[name] = inlineValue
                } else {
                    guard i < arguments.count, !arguments[i].hasPrefix("--") else {
                        throw UsageError("--\(name) needs a value")
                    }
                    values[name] = arguments[i]
                    i += 1
                }
            } else {
                let known = valueOptions.union(flagOptions)
                let suggestion = Self.closest(to: name, in: known).map { "; did you mean --\($0)?" } ?? ""
                throw UsageError("unknown option --\(name)\(suggestion)")
            }
        }
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The known option nearest to a misspelt `name` (at most two edits away), if any.
    static func closest(to name: String, in known: Set<String>) -> String? {
        let scored = known.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...Swift.max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...Swift.max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    /// The one positional argument, which must be one of `choices` (the usage error names the
    /// command line `usage`, e.g. "tessera rl").
    public func onlyPositional(from choices: [String], usage: String, what: String = "a model") throws -> String {
        guard let first = positional.first, choices.contains(first) else {
            throw UsageError("expected \(what): \(usage) " + choices.joined(separator: "|"))
        }
        guard positional.count == 1 else { throw UsageError("unexpected argument '\(positional[1])'") }
        return first
    }

    /// A parsed value, its default when absent, or a usage error naming the option.
    public func value<T: LosslessStringConvertible>(_ name: String, default defaultValue: T,
                                                    where valid: (T) -> Bool = { _ in true },
                                                    expected: String = "") throws -> T {
        guard let text = values[name] else { return defaultValue }
        guard let parsed = T(text), valid(parsed) else {
            throw UsageError("invalid value '\(text)' for --\(name)" + (expected.isEmpty ? "" : "; expected \(expected)"))
        }
        return parsed
    }
}
