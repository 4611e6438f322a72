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
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

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
