import Foundation
import TensorCore

/// Reads `Fixtures/sequence_fixtures.json` (written by generate_fixtures.py beside it).
enum Fixtures {
    static let cases: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sequence_fixtures.json")
        let json = try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
        return json["cases"] as! [String: Any]
    }()

    static func tensor(_ any: Any?) -> Tensor {
        let d = any as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    static func group(_ key: String) -> [String: Any] { cases[key] as! [String: Any] }

    static func tensor(_ key: String, _ field: String) -> Tensor { tensor(group(key)[field]) }

    static func tensors(_ key: String, _ field: String) -> [Tensor] { (group(key)[field] as! [Any]).map(tensor) }

    static func dictionary(_ key: String, _ field: String) -> [String: Tensor] {
        (group(key)[field] as! [String: Any]).mapValues(tensor)
    }
}

/// `arange(n) % 7 / 7 - 0.4` in `shape`: the output weights the fixture gradients use.
func fixtureWeights(_ shape: [Int]) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor((0..<n).map { Double($0 % 7) / 7 - 0.4 }, shape: shape)
}
