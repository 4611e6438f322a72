import Foundation
import Testing
@testable import TensorCore
import TensorCoreTesting

/// Forward values against PyTorch (Fixtures/generate_fixtures.py writes torch_ops.json).
@Suite("Forward values match PyTorch fixtures")
struct TorchFixtureTests {
    struct Case {
        var name: String
        var inputs: [Tensor]
        var output: Tensor
        var params: [String: Any]
    }

    static func tensor(_ json: [String: Any]) -> Tensor {
        let shape = json["shape"] as! [Int]
        let dtype = json["dtype"] as! String
        if dtype == "int64" {
            return Tensor((json["data"] as! [NSNumber]).map { $0.int64Value }, shape: shape)
        }
        return Tensor((json["data"] as! [NSNumber]).map { $0.doubleValue }, shape: shape)
    }

    static let fixtures: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/torch_ops.json")
        let data = try! Data(contentsOf: url)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static let cases: [Case] = (fixtures["cases"] as! [[String: Any]]).map { c in
        Case(name: c["name"] as! String,
             inputs: (c["inputs"] as! [[String: Any]]).map(tensor),
             output: tensor(c["output"] as! [String: Any]),
             params: c["params"] as! [String: Any])
    }

    static func ints(_ any: Any?, shape: [Int]) -> Tensor {
        Tensor((any as! [NSNumber]).map { $0.int64Value }, shape: shape)
    }

    static let operations: [String: (Case) -> Tensor] = [
        "exp": { $0.inputs[0].exp() }, "log": { $0.inputs[0].log() }, "log1p": { $0.inputs[0].log1p() },
        "expm1": { $0.inputs[0].expm1() }, "sqrt": { $0.inputs[0].sqrt() }, "rsqrt": { $0.inputs[0].rsqrt() },
        "sin": { $0.inputs[0].sin() }, "cos": { $0.inputs[0].cos() }, "tanh": { $0.inputs[0].tanh() },
        "sigmoid": { $0.inputs[0].sigmoid() }, "erf": { $0.inputs[0].erf() }, "relu": { $0.inputs[0].relu() },
        "abs": { $0.inputs[0].abs() }, "sign": { $0.inputs[0].sign() }, "silu": { $0.inputs[0].silu() },
        "gelu": { $0.inputs[0].gelu() }, "geluTanh": { $0.inputs[0].gelu(approximate: true) },
        "leakyRelu": { $0.inputs[0].leakyRelu(negativeSlope: 0.1) }, "elu": { $0.inputs[0].elu(alpha: 0.5) },
        "softplus": { $0.inputs[0].softplus(beta: 2, threshold: 3) },
        "clamp": { $0.inputs[0].clamped(min: -1, max: 0.5) },
        "add": { $0.inputs[0] + $0.inputs[1] }, "multiply": { $0.inputs[0] * $0.inputs[1] },
        "divide": { $0.inputs[0] / $0.inputs[1] }, "maximum": { $0.inputs[0].maximum($0.inputs[1]) },
        "pow": { $0.inputs[0].pow($0.inputs[1]) },
        "where": { Tensor.where($0.inputs[0] .> 0, $0.inputs[0], $0.inputs[1]) },
        "softmax": { $0.inputs[0].softmax(axis: -1) }, "softmax1": { $0.inputs[0].softmax(axis: 1) },
        "logSoftmax": { $0.inputs[0].logSoftmax(axis: -1) },
        "logSumExp": { $0.inputs[0].logSumExp(axes: [1]) },
        "variance": { $0.inputs[0].variance(axes: [0, 2]) },
        "std": { $0.inputs[0].standardDeviation(axes: [2], keepDims: true) },
        "mean": { $0.inputs[0].mean(axes: [1]) }, "sumAll": { $0.inputs[0].sum() },
        "prod": { $0.inputs[0].product(axes: [2]) }, "max": { $0.inputs[0].max(axes: [0, 2]) },
        "cumsum": { $0.inputs[0].cumulativeSum(axis: 1) },
        "argmax": { $0.inputs[0].argmax(axis: 2) }, "argmin": { $0.inputs[0].argmin(axis: 0) },
        "layerNorm": { $0.inputs[0].layerNormalized() },
        "matmul": { $0.inputs[0].matmul($0.inputs[1]) }, "matvec": { $0.inputs[0].matmul($0.inputs[1]) },
        "sortDescending": { $0.inputs[0].sorted(axis: -1, descending: true).values },
        "topk": { $0.inputs[0].topK(2, axis: 1).values },
        "gather": { $0.inputs[0].gather(axis: 1, index: ints($0.params["index"], shape: [3, 2])) },
        "scatterAdd": { $0.inputs[0].scatterAdding(axis: 1, index: ints($0.params["index"], shape: [3, 2]), source: $0.inputs[1]) },
        "indexSelect": { $0.inputs[0].indexSelect(axis: 0, indices: ints($0.params["indices"], shape: [3])) },
        "indexAdd": { $0.inputs[0].indexAdding(axis: 0, indices: ints($0.params["indices"], shape: [3]), source: $0.inputs[1]) },
        "crossEntropy": { c in
            let targets = ints(c.params["targets"], shape: [4])
            return Tensor(operand: { () -> Operand in
                let out = Tensor.zeros([4], dtype: c.inputs[0].dtype)
                CPUBackend.shared.crossEntropy(logits: c.inputs[0].operand, targets: targets.operand, into: out.operand)
                return out.operand
            }())
        },
    ]

    @Test func everyFixtureHasAnOperation() {
        for c in Self.cases { #expect(Self.operations[c.name] != nil, "no operation for fixture \(c.name)") }
    }

    @Test(arguments: ["float64", "float32"])
    func operationsMatchTorch(dtype: String) {
        let type: DType = dtype == "float64" ? .float64 : .float32
        let tolerance = type == .float64 ? Tolerance(absolute: 1e-10, relative: 1e-9) : Tolerance(absolute: 2e-5, relative: 2e-5)
        for c in Self.cases {
            guard let op = Self.operations[c.name] else { continue }
            var typed = c
            typed.inputs = c.inputs.map { $0.dtype == .float64 ? $0.cast(to: type) : $0 }
            let result = op(typed)
            let expected = c.output.dtype == .float64 ? c.output.cast(to: type) : c.output
            #expect(result.dtype == expected.dtype, "\(c.name): dtype \(result.dtype), torch \(expected.dtype)")
            expectClose(result, expected, tolerance: tolerance, Comment(rawValue: "\(c.name) in \(dtype)"))
        }
    }

    @Test func printsLikeTorch() {
        for p in Self.fixtures["prints"] as! [[String: Any]] {
            let json = p["tensor"] as! [String: Any]
            var t = Self.tensor(json)
            switch json["dtype"] as! String {
            case "float32": t = t.cast(to: .float32)
            case "bool": t = t .!= 0
            default: break
            }
            let expected = (p["text"] as! String).replacingOccurrences(of: "torch.", with: "")
            #expect(t.description == expected)
        }
    }
}
