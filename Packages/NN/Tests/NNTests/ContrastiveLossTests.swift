import Foundation
import NN
import Testing
import TensorCore
import TensorCoreTesting

/// Contrastive losses against PyTorch (Fixtures/generate_contrastive_fixtures.py).
@Suite("Contrastive losses match PyTorch")
struct ContrastiveLossTests {
    static let cases: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/contrastive_fixtures.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ key: String) -> Tensor {
        let d = cases[key] as! [String: Any]
        return Tensor((d["data"] as! [String]).map { Double($0)! }, shape: d["shape"] as! [Int])
    }

    let tight = Tolerance(absolute: 1e-10, relative: 1e-10)

    @Test func valuesMatch() {
        let z1 = Self.tensor("z1"), z2 = Self.tensor("z2")
        expectClose(ntXentLoss(z1, z2, temperature: 0.5), Self.tensor("nt_xent_0.5"), tolerance: tight)
        expectClose(ntXentLoss(z1, z2, temperature: 0.1), Self.tensor("nt_xent_0.1"), tolerance: tight)
        let q = Self.tensor("q"), k = Self.tensor("k")
        expectClose(infoNCELoss(queries: q, keys: k), Self.tensor("info_nce"), tolerance: tight)
        expectClose(infoNCELoss(queries: q, keys: k, temperature: 0.5, normalize: false), Self.tensor("info_nce_raw"), tolerance: tight)
        let a = Self.tensor("a"), p = Self.tensor("p"), n = Self.tensor("n")
        expectClose(tripletMarginLoss(anchor: a, positive: p, negative: n), Self.tensor("triplet"), tolerance: tight)
        expectClose(tripletMarginLoss(anchor: a, positive: p, negative: n, margin: 0.5, reduction: .none), Self.tensor("triplet_none"), tolerance: tight)
    }

    @Test func gradientsMatchCentralDifferences() {
        GradientCheck.check([Self.tensor("z1"), Self.tensor("z2")], "NT-Xent") { ntXentLoss($0[0], $0[1]) }
        GradientCheck.check([Self.tensor("q"), Self.tensor("k")], "InfoNCE") { infoNCELoss(queries: $0[0], keys: $0[1]) }
        GradientCheck.check([Self.tensor("a"), Self.tensor("p"), Self.tensor("n")], "triplet") {
            tripletMarginLoss(anchor: $0[0], positive: $0[1], negative: $0[2], margin: 2)
        }
    }
}
