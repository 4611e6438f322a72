import Foundation
import TensorCore

/// Reads `Fixtures/nn_fixtures.json` (written by generate_fixtures.py beside it).
enum Fixtures {
    static let cases: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/nn_fixtures.json")
        let json = try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
        return json["cases"] as! [String: Any]
    }()

    static func tensor(_ any: Any?) -> Tensor {
        let d = any as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    static func tensor(_ key: String) -> Tensor { tensor(cases[key]) }

    static func tensor(_ key: String, _ field: String) -> Tensor { tensor((cases[key] as! [String: Any])[field]) }

    static func ints(_ key: String, _ field: String) -> Tensor {
        Tensor(((cases[key] as! [String: Any])[field] as! [NSNumber]).map(\.int64Value))
    }
}
