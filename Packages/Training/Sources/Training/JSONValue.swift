import Foundation

/// A JSON value for results files: written with sorted keys and shortest round-trip numbers,
/// so the same run gives the same bytes.
public indirect enum JSONValue: Equatable, Sendable, Codable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
                                ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                                ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    /// A string.
    case string(String)
    /// A number (non-finite ones are written as null).
    case number(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// An ordered list.
    case array([JSONValue])
    /// Members by name (written with sorted keys).
    case object([String: JSONValue])
    /// No value.
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// Any `Encodable` value (a model or trainer configuration) as JSON.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// Parses JSON text.
    public init(parsing data: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Compact JSON text with sorted keys (`indent` spaces per level when given).
    public func text(indent: Int? = 2) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) } ?? ""
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
        switch self {
        case .string(let s): out += Self.quoted(s)
        case .number(let v): out += Self.numberText(v)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += (i > 0 ? "," : "") + newline
                item.write(into: &out, indent: indent, level: level + 1)
            }
            out += closing + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                out += (i > 0 ? "," : "") + newline + Self.quoted(key) + (indent == nil ? ":" : ": ")
                members[key]!.write(into: &out, indent: indent, level: level + 1)
            }
            out += closing + "}"
        }
    }

    /// Non-finite numbers have no JSON form: written as null.
    static func numberText(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// The member `key` of an object (nil otherwise).
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The number, when this is one.
    public var numberValue: Double? { if case .number(let v) = self { return v } else { return nil } }
    /// The string, when this is one.
    public var stringValue: String? { if case .string(let v) = self { return v } else { return nil } }
}

extension JSONValue {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Bool before Double: the decoder keeps them apart, so `true` never reads as 1.
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let v = try? container.decode(Double.self) { self = .number(v) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .number(let v): if v.isFinite { try container.encode(v) } else { try container.encodeNil() }
        case .bool(let b): try container.encode(b)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }
}
