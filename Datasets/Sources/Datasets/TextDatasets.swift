import Foundation

/// Plain-text corpora and labelled sentences fetched by `Datasets/fetch`.
public enum TextDatasets {
    /// The complete works of Shakespeare (Project Gutenberg text), as one string.
    /// Line endings are normalised to `\n`.
    public static func shakespeare(root: String = DatasetLocation.defaultRoot()) throws -> String {
        let path = root + "/shakespeare/shakespeare.txt"
        let bytes = try readBytes(path, dataset: "shakespeare")
        guard bytes.count > 1_000_000 else {
            throw DatasetError.truncated(path: path, expectedBytes: 5_057_198, actualBytes: bytes.count)
        }
        return try decodeText(bytes, path: path)
    }

    /// UTF-8 text with `\r\n` line endings normalised to `\n`; throws `DatasetError.corrupt`
    /// naming `path` for bytes that are not UTF-8.
    public static func decodeText(_ bytes: [UInt8], path: String) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError.corrupt(path: path, reason: "not UTF-8 text")
        }
        return text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// One labelled text of the sentiment data: `label` 1 positive, 0 negative.
    public struct LabelledText: Equatable, Sendable {
        /// The text as written.
        public var text: String
        /// 1 positive, 0 negative.
        public var label: Int
    }

    /// Which Pang & Lee collection: 1,500 full movie reviews, or 4,000 single sentences
    /// (`polarity-en-pang&lee1.csv` and `...2.csv`).
    public enum SentimentCollection: String, Sendable {
        /// 1,500 whole reviews.
        case reviews = "polarity-en-pang&lee1.csv"
        /// 4,000 single sentences.
        case sentences = "polarity-en-pang&lee2.csv"
    }

    /// Pang & Lee movie-review polarity, as texts with labels 0 (negative, -1 in the file)
    /// and 1 (positive), in file order.
    public static func sentiment(_ collection: SentimentCollection = .sentences,
                                 root: String = DatasetLocation.defaultRoot()) throws -> [LabelledText] {
        let path = root + "/sentiment/" + collection.rawValue
        return try decodeSentiment(try readBytes(path, dataset: "sentiment"), path: path)
    }

    /// Parses sentiment CSV bytes (`label,text` records, label 1 or -1, RFC 4180 quoting);
    /// throws `DatasetError.corrupt` naming `path` and the record for anything else.
    public static func decodeSentiment(_ bytes: [UInt8], path: String) throws -> [LabelledText] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError.corrupt(path: path, reason: "not UTF-8 text")
        }
        var result: [LabelledText] = []
        for (line, record) in try CSV.records(text, path: path).enumerated() {
            guard record.count == 2, let value = Int(record[0].trimmingCharacters(in: .whitespaces)),
                  value == 1 || value == -1 else {
                throw DatasetError.corrupt(path: path, reason: "record \(line + 1) is not `label,text` with label ±1")
            }
            let sentence = record[1].trimmingCharacters(in: .whitespacesAndNewlines)
            result.append(LabelledText(text: sentence, label: value == 1 ? 1 : 0))
        }
        guard !result.isEmpty else { throw DatasetError.corrupt(path: path, reason: "no records") }
        return result
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
enum CSV {
    static func records(_ text: String, path: String) throws -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var inQuotes = false, fieldStarted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return scalars.next()
        }
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(fields) }
            fields = []; field = ""; fieldStarted = false
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\u{FEFF}" where !fieldStarted && field.isEmpty && fields.isEmpty && records.isEmpty:
                continue  // byte-order mark
            case "\"" where field.isEmpty:
                inQuotes = true; fieldStarted = true
            case ",":
                fields.append(field); field = ""; fieldStarted = false
            case "\n":
                endRecord()
            case "\r":
                continue
            default:
                field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        if inQuotes { throw DatasetError.corrupt(path: path, reason: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
