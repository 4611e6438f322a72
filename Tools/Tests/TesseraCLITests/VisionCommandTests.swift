import Foundation
import Testing
import Training
@testable import TesseraCLI

extension CommandTests {
    /// `tessera train vit` and `tessera train detector`: their defaults and pictures.
    struct VisionCommandTests {
        func results(_ out: String) throws -> JSONValue {
            try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        }

        @Test func vitTakesItsRecipeAndDrawsAttention() throws {
            let command = try TrainCommand(arguments: ["vit"])
            #expect(command.optimizer == "adamw" && command.schedule == "warmup-cosine" && command.weightDecay == 0.05 && command.epochs == 12)
            let root = TrainCommandTests().syntheticRoot(), out = root + "/vit"
            try TrainCommand(arguments: ["vit", "--dataset", "mnist", "--epochs", "2", "--batch-size", "25", "--train-subset", "300", "--data", root, "--out", out])
                .run(print: { _ in })
            let json = try results(out)
            #expect(try #require(json["final"]?["test_accuracy"]?.numberValue) > 0.3, "the synthetic classes are easy")
            #expect(FileManager.default.fileExists(atPath: out + "/attention.png"))
            #expect(FileManager.default.fileExists(atPath: out + "/model.h5"))
        }

        @Test func detectorWritesMeanAveragePrecisionAndDetections() throws {
            let out = NSTemporaryDirectory() + "tessera-detector-\(UInt64.random(in: 0..<UInt64.max))"
            try DetectionCommand(arguments: ["detector", "--epochs", "2", "--train-images", "96", "--test-images", "16", "--batch-size", "16",
                                             "--out", out]).run(print: { _ in })
            let json = try results(out)
            for key in ["test_map", "test_ap_circle", "test_ap_square", "test_ap_triangle"] {
                let value = try #require(json["final"]?[key]?.numberValue, "final.\(key)")
                #expect(value >= 0 && value <= 1)
            }
            #expect(json["epochs"].map { if case .array(let a) = $0 { return a.count } else { return 0 } } == 2)
            #expect(FileManager.default.fileExists(atPath: out + "/detections.png"))
        }

        @Test func simclrWritesBothProbesAndTheViews() throws {
            let root = TrainCommandTests().syntheticRoot(), out = root + "/simclr"
            try SimCLRCommand(arguments: ["simclr", "--dataset", "mnist", "--epochs", "1", "--train-subset", "64", "--batch-size", "32",
                                          "--probe-epochs", "2", "--data", root, "--out", out]).run(print: { _ in })
            let json = try results(out)
            for key in ["probe_test_accuracy", "pixel_probe_test_accuracy", "beats_pixels", "train_loss"] {
                #expect(json["final"]?[key]?.numberValue?.isFinite == true, "final.\(key)")
            }
            #expect(json["configuration"]?["train_images"]?.numberValue == 64)
            #expect(FileManager.default.fileExists(atPath: out + "/views.png"))
        }

        @Test func misuseIsAUsageError() {
            for bad in [["detector", "--epochs", "0"], ["detector", "--lr", "-1"], ["detector", "--checkpoint-dir", "/tmp/x"], ["detectr"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try DetectionCommand(arguments: bad) }
            }
            #expect(throws: UsageError.self) { _ = try TrainCommand(arguments: ["vit", "--dataset", "digits"]) }
            for bad in [["simclr", "--dataset", "cifar"], ["simclr", "--batch-size", "1"], ["simclr", "--train-subset", "1"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try SimCLRCommand(arguments: bad) }
            }
        }
    }
}
