import Foundation
import TensorCore

/// A JSON file of reference values written by a test's generating script (PyTorch,
/// scikit-learn, NumPy), read by key paths. A tensor is an object of `shape` and `data`, its
/// numbers either JSON numbers or decimal strings (`repr` of a float64, exact through any
/// parser). A missing key or a malformed value stops the test with the path named.
///
/// ```swift
/// let fixtures = JSONFixtures("Fixtures/fixtures.json")          // beside the test file
/// let expected = fixtures.tensor("revin", "normalized")
/// ```
public struct JSONFixtures {
    /// The parsed document.
    public let root: [String: Any]

    /// Reads `relativePath`, resolved against the folder of the calling test file.
    public init(_ relativePath: String, besides file: StaticString = #filePath) {
        let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent(relativePath)
        guard let data = try? Data(contentsOf: url),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            fatalError("[JSONFixtures] cannot read a JSON object from \(url.path); run its generating script")
        }
        root = object
    }

    /// The value at `path`.
    public func value(_ path: [String]) -> Any {
        var node: Any = root
        for (depth, key) in path.enumerated() {
            guard let next = (node as? [String: Any])?[key] else {
                fatalError("[JSONFixtures] no key '\(key)' at \(path.prefix(depth).joined(separator: "."))")
            }
            node = next
        }
        return node
    }

    /// The number at `path`.
    public func number(_ path: String...) -> Double { Self.double(value(path), path) }

    /// The float64 tensor at `path`.
    public func tensor(_ path: String...) -> Tensor { Self.tensor(from: value(path), path: path) }

    /// A float64 tensor from a `shape`-and-`data` object already read (an element of a list).
    public static func tensor(from value: Any, path: [String] = []) -> Tensor {
        guard let object = value as? [String: Any], let shape = object["shape"] as? [Int], let data = object["data"] as? [Any] else {
            fatalError("[JSONFixtures] \(path.joined(separator: ".")) is not an object of shape and data")
        }
        return Tensor(data.map { double($0, path) }, shape: shape)
    }

    static func double(_ any: Any, _ path: [String]) -> Double {
        if let n = any as? NSNumber { return n.doubleValue }
        if let s = any as? String, let d = Double(s) { return d }
        fatalError("[JSONFixtures] \(path.joined(separator: ".")) holds \(any), not a number")
    }
}
