import Foundation
import Testing
import Training
import Zlib
@testable import TesseraCLI

extension CommandTests {
    /// `tessera course …` with its defaults where they are fast (taylor, newton, spectral), on
    /// the synthetic MNIST for lstsq and elm; each writes the final figures the issue names.
    struct CourseCommandTests {
        func run(_ arguments: [String]) throws -> JSONValue {
            let out = NSTemporaryDirectory() + "tessera-course-\(arguments[0])-\(UInt64.random(in: 0..<UInt64.max))"
            try CourseCommand(arguments: arguments + ["--out", out]).run(print: { _ in })
            return try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        }

        @Test func taylorSlopesAndNewtonIterations() throws {
            let taylor = try run(["taylor"])
            let zeroth = try #require(taylor["final"]?["zeroth_order_slope"]?.numberValue)
            let first = try #require(taylor["final"]?["first_order_slope"]?.numberValue)
            #expect(Swift.abs(zeroth - 1) <= 0.1 && Swift.abs(first - 2) <= 0.1, "slopes \(zeroth), \(first)")
            let newton = try run(["newton"])
            #expect(try #require(newton["final"]?["iteration_ratio"]?.numberValue) >= 5)
        }

        @Test func neuralODEAdjointAndEulerResNet() throws {
            let final = try #require(try run(["node"])["final"])
            let tight = try #require(final["adjoint_gradient_gap_1e-10"]?.numberValue)
            let loose = try #require(final["adjoint_gradient_gap_1e-01"]?.numberValue)
            #expect(tight < 1e-6 && loose > 1e-3, "gaps \(tight), \(loose)")
            let plain = try #require(final["euler_resnet_amplification_unconstrained"]?.numberValue)
            let antisymmetric = try #require(final["euler_resnet_amplification_antisymmetric"]?.numberValue)
            #expect(plain > 10 && antisymmetric < 2, "amplification \(plain), \(antisymmetric)")
        }

        /// Bayes by backprop on the synthetic digits, with the same images gzipped as a stand-in
        /// Fashion-MNIST (the command reads its test split for the entropy AUROC).
        @Test func bayesByBackpropReportsCalibrationAndAUROC() throws {
            let root = TrainCommandTests().syntheticRoot()
            try FileManager.default.createDirectory(atPath: root + "/fashion-mnist", withIntermediateDirectories: true)
            for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
                let raw = try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/mnist/" + name)))
                try Data(Zlib.deflate(raw, format: .gzip)).write(to: URL(fileURLWithPath: root + "/fashion-mnist/" + name + ".gz"))
            }
            let results = try run(["bnn", "--data", root, "--epochs", "2", "--samples", "3"])
            let final = try #require(results["final"])
            #expect(try #require(final["test_accuracy"]?.numberValue) > 0.5)
            let ece = try #require(final["ece"]?.numberValue)
            #expect(ece >= 0 && ece <= 1)
            // The same images in and out of distribution: the AUROC sits near chance.
            #expect(Swift.abs(try #require(final["fashion_mnist_entropy_auroc"]?.numberValue) - 0.5) < 0.1)
            guard case .array(let epochs)? = results["epochs"] else { Issue.record("results.json has no epochs array"); return }
            #expect(epochs.count == 2)
        }

        @Test func spectralClusteringBeatsKMeans() throws {
            let results = try run(["spectral", "--seed", "1"])
            let final = try #require(results["final"])
            #expect(try #require(final["two_moons_accuracy"]?.numberValue) >= 0.99)
            #expect(try #require(final["circles_accuracy"]?.numberValue) >= 0.99)
            #expect(try #require(final["circles_kmeans_accuracy"]?.numberValue) < 0.9)
        }

        @Test func leastSquaresAndELMOnSyntheticDigits() throws {
            let root = TrainCommandTests().syntheticRoot()
            let lstsq = try run(["lstsq", "--data", root])
            #expect(try #require(lstsq["final"]?["test_accuracy"]?.numberValue) > 0.9)
            #expect(lstsq["final"]?["cgls_test_accuracy"]?.numberValue == lstsq["final"]?["test_accuracy"]?.numberValue)
            let elm = try run(["elm", "--data", root, "--hidden", "100"])
            #expect(try #require(elm["final"]?["test_accuracy"]?.numberValue) > 0.9)
            let ntk = try run(["ntk", "--widths", "16,256"])
            let small = try #require(ntk["final"]?["ntk_relative_error_16"]?.numberValue)
            let large = try #require(ntk["final"]?["ntk_relative_error_256"]?.numberValue)
            #expect(large < small / 2, "\(small) -> \(large)")
            #expect(throws: UsageError.self) { _ = try CourseCommand(arguments: ["bnnx"]) }
            #expect(throws: UsageError.self) { _ = try CourseCommand(arguments: ["bnn", "--schedule", "step"]) }
            #expect(try CourseCommand(arguments: ["bnn"]).annealed)
            #expect(try !CourseCommand(arguments: ["bnn", "--schedule", "constant"]).annealed)
        }
    }
}
