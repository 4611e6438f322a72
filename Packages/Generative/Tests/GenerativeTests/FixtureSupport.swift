import Foundation
import TensorCore

/// Reads `Fixtures/generative_fixtures.json` (written by generate_fixtures.py beside it).
enum Fixtures {
    static let cases: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/generative_fixtures.json")
        let json = try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
        return json["cases"] as! [String: Any]
    }()

    /// Field `field` of case `key` as a float64 tensor.
    static func tensor(_ key: String, _ field: String) -> Tensor {
        let d = (cases[key] as! [String: Any])[field] as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    /// Field `field` of case `key` as it is in the JSON.
    static func value(_ key: String, _ field: String) -> Any { (cases[key] as! [String: Any])[field]! }
}
