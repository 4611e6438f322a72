import CheckpointHDF5
import Datasets
import Foundation
import Testing
import TensorCore
@testable import TesseraCLI
import Training
import Vision

extension CommandTests {
    @Suite("tessera train")
    struct TrainCommandTests {
        /// A tiny MNIST-shaped dataset whose class is written in the image: learnable in a few epochs.
        func syntheticRoot() -> String {
            let root = NSTemporaryDirectory() + "tessera-train-\(UInt64.random(in: 0..<UInt64.max))"
            let dir = root + "/mnist"
            try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (split, count) in [("train", 600), ("t10k", 200)] {
                var pixels: [UInt8] = [], labels: [UInt8] = []
                for i in 0..<count {
                    let label = UInt8(i % 10)
                    labels.append(label)
                    for p in 0..<784 { pixels.append(p / 78 == Int(label) ? 200 : UInt8((p * 7 + i) % 50)) }
                }
                let images = IDX.encode(Tensor(pixels, shape: [count, 28, 28]))
                _ = FileManager.default.createFile(atPath: "\(dir)/\(split)-images-idx3-ubyte", contents: Data(images))
                _ = FileManager.default.createFile(atPath: "\(dir)/\(split)-labels-idx1-ubyte", contents: Data(IDX.encode(Tensor(labels))))
            }
            return root
        }

        @Test func trainsWritesMetricsAndReportsAccuracy() throws {
            let root = syntheticRoot()
            var lines: [String] = []
            let command = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--epochs", "3", "--hidden", "32",
                                                       "--batch-size", "50", "--data", root, "--out", root + "/run"])
            let history = try command.run(print: { lines.append($0) })
            #expect(history.epochs.count == 3)
            #expect(history.epochs.last!["test_accuracy"]! > 0.9)
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/run/results.json")))
            #expect(results["final"]?["test_accuracy"]?.numberValue == history.epochs.last!["test_accuracy"])
            #expect(results["final"]?["test_loss"] != nil && results["final"]?["train_loss"] != nil && results["final"]?["seconds"] != nil)
            #expect(results["configuration"]?["command"]?.stringValue?.hasPrefix("tessera train mlp --dataset mnist") == true)
            #expect(results["configuration"]?["trainer"]?["epochs"]?.numberValue == 3)
            let png = try PNG.read(root + "/run/curves.png")
            #expect(png.shape == [3, 320, 960])   // loss and accuracy panels
            #expect(lines.last!.hasPrefix("test accuracy: "))
            let csv = try String(contentsOfFile: root + "/run/metrics.csv", encoding: .utf8)
            #expect(csv.split(separator: "\n").count == 4)
            let svg = try String(contentsOfFile: root + "/run/curves.svg", encoding: .utf8)
            #expect(svg.contains("<polyline"))
        }

        @Test func evalOfTheSavedModelReportsTheSameTestAccuracy() throws {
            let root = syntheticRoot()
            for model in ["mlp", "lenet"] {
                let history = try TrainCommand(arguments: [model, "--dataset", "mnist", "--epochs", "1", "--hidden", "24",
                                                           "--data", root, "--out", root + "/\(model)"]).run(print: { _ in })
                var lines: [String] = []
                let result = try EvalCommand(arguments: ["--checkpoint", root + "/\(model)/model.h5", "--data", root,
                                                         "--out", root + "/\(model)-eval"]).run(print: { lines.append($0) })
                #expect(result.accuracy == history.epochs.last!["test_accuracy"], "\(model)")
                #expect(result.loss == history.epochs.last!["test_loss"], "\(model)")
                #expect(lines.last == String(format: "test accuracy: %.4f", result.accuracy!))
                let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/\(model)-eval/results.json")))
                #expect(results["final"]?["test_accuracy"]?.numberValue == result.accuracy)
            }
            // A checkpoint that records no model is a typed error, not a crash.
            try CheckpointFile.save(Checkpoint(model: ["w": Tensor.zeros([2])]), to: root + "/bare.h5")
            #expect(throws: TrainingError.self) { try EvalCommand(arguments: ["--checkpoint", root + "/bare.h5"]).run(print: { _ in }) }
            #expect(throws: UsageError.self) { try EvalCommand(arguments: []) }
        }

        @Test func convertRoundTripsWeightsBetweenHDF5AndSafetensors() throws {
            let root = syntheticRoot()
            _ = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--epochs", "1", "--hidden", "8",
                                             "--data", root, "--out", root + "/run"]).run(print: { _ in })
            try ConvertCommand(arguments: [root + "/run/model.h5", root + "/model.safetensors"]).run(print: { _ in })
            try ConvertCommand(arguments: [root + "/model.safetensors", root + "/back.h5"]).run(print: { _ in })
            let original = try CheckpointFile.load(from: root + "/run/model.h5"), back = try CheckpointFile.load(from: root + "/back.h5")
            #expect(Set(original.model.keys) == Set(back.model.keys))
            for (name, t) in original.model { #expect(t.scalars == back.model[name]!.scalars, "\(name)") }
            #expect(back.metadata["model"]?.description == "mlp")
            #expect(throws: UsageError.self) { try ConvertCommand(arguments: [root + "/run/model.h5", root + "/x.pt"]) }
            #expect(throws: UsageError.self) { try ConvertCommand(arguments: [root + "/run/model.h5"]) }
        }

        @Test func aGPUThatIsNotThereIsAReasonAndANonZeroExit() throws {
            let root = syntheticRoot()
            var errors: [String] = []
            let code = TesseraMain.run(["train", "mlp", "--dataset", "mnist", "--epochs", "1", "--data", root, "--device", "cuda"],
                                       print: { _ in }, error: { errors.append($0) })
            if code == 1 {
                #expect(errors.joined().contains("--device cuda:"), "\(errors)")
            } else {
                #expect(code == 0, "a machine with a GPU trains on it")
            }
            // Every command that trains or samples takes --device and refuses a device it does not know.
            for command in [["train", "mlp"], ["train", "gpt"], ["train", "char-rnn"], ["train", "sentiment"], ["sample", "gpt"],
                            ["attack"], ["demo"]] {
                var messages: [String] = []
                let arguments = command + (command[0] == "sample" ? ["--checkpoint", "x.h5"] : []) + ["--device", "tpu"]
                #expect(TesseraMain.run(arguments, print: { _ in }, error: { messages.append($0) }) == 2, "\(command)")
                #expect(messages.joined().contains("invalid value 'tpu' for --device"), "\(command): \(messages)")
            }
        }

        @Test func nonFiniteLossStopsWithTheStepNumber() throws {
            let root = syntheticRoot()
            let command = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--epochs", "1", "--lr", "1e30",
                                                       "--optimizer", "sgd", "--data", root, "--out", root + "/run"])
            do {
                try command.run(print: { _ in })
                Issue.record("training with lr 1e30 should stop on a non-finite loss")
            } catch let error as TrainingError {
                #expect(error.description.contains("at step"))
                #expect(error.description.contains("anomaly mode"))
            }
        }

        /// The misuse the hostile-user pass found: each ends before any work with exit 2 and a
        /// message naming the option (it used to trap, fail after training, or run on).
        @Test func misuseIsCaughtBeforeWorkStarts() throws {
            let root = syntheticRoot()
            let file = root + "/a-file"
            _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
            let cases: [([String], String)] = [
                (["train", "mlp", "--hidden", "4000000000"], "--hidden"),
                (["train", "mlp", "--hidden", "9223372036854775807,9223372036854775807"], "--hidden"),
                (["train", "gpt", "--width", "1200000", "--heads", "1"], "--width"),
                (["train", "char-rnn", "--hidden", "3000000"], "--hidden"),
                (["train", "mlp", "--threads", "100000"], "--threads"),
                (["train", "sentiment", "--threads", "0"], "--threads"),
                (["train", "mlp", "--dataset", "mnist", "--data", root, "--out", file], "is a file"),
                (["train", "mlp", "--dataset", "mnist", "--data", root, "--checkpoint-dir", file + "/sub"], "cannot be created"),
                (["train", "mlp", "--checkpoint-dir", root + "/empty", "--resume"], "holds no checkpoint"),
                (["train", "gpt", "--checkpoint-dir", root + "/empty", "--resume"], "holds no checkpoint"),
            ]
            for (arguments, message) in cases {
                var errors: [String] = []
                #expect(TesseraMain.run(arguments, print: { _ in }, error: { errors.append($0) }) == 2, "\(arguments)")
                #expect(errors.joined().contains(message), "\(arguments): \(errors)")
            }
        }

        /// A batch size near Int.max trapped in the loader's batch count; it is one batch.
        @Test func anyBatchSizeIsOneBatchAtMost() throws {
            let root = syntheticRoot()
            let command = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--epochs", "1", "--batch-size",
                                                       "9223372036854775807", "--hidden", "8", "--data", root, "--out", root + "/run"])
            let history = try command.run(print: { _ in })
            #expect(history.epochs.count == 1)
        }

        /// lr 1e300: the weights overflow in the last step and only the evaluation sees it;
        /// that ends the run with the step too (it used to exit 0 with a NaN test loss).
        @Test func aNonFiniteEvaluationLossStopsTheRun() throws {
            let root = syntheticRoot()
            var errors: [String] = []
            let code = TesseraMain.run(["train", "mlp", "--dataset", "mnist", "--epochs", "1", "--lr", "1e300", "--data", root,
                                        "--out", root + "/run"], print: { _ in }, error: { errors.append($0) })
            #expect(code == 1, "\(errors)")
            #expect(errors.joined().contains("at step"), "\(errors)")
        }

        @Test func missingDataNamesTheFetchCommand() throws {
            let command = try TrainCommand(arguments: ["mlp", "--dataset", "fashion-mnist", "--data", "/nonexistent"])
            #expect(throws: DatasetError.self) { try command.run(print: { _ in }) }
            var err: [String] = []
            let code = TesseraMain.run(["train", "mlp", "--dataset", "fashion-mnist", "--data", "/nonexistent"],
                                       print: { _ in }, error: { err.append($0) })
            #expect(code == 1)
            #expect(err.first?.contains("Datasets/fetch fashion-mnist") == true)
        }

        @Test func badCommandLinesAreUsageErrors() {
            for arguments in [["train"], ["train", "transformer"], ["train", "mlp", "--dataset", "cifar"], ["train", "mlp", "--epochs", "0"],
                              ["train", "mlp", "--optimizer", "lion"], ["train", "mlp", "--hidden", "a,b"], ["train", "mlp", "--bogus"]] {
                var err: [String] = []
                #expect(TesseraMain.run(arguments, print: { _ in }, error: { err.append($0) }) == 2, "\(arguments)")
                #expect(err.first?.contains("usage: tessera") == true)
            }
        }
    }

    @Suite("Checkpointing from the command line")
    struct CheckpointCommandTests {
        @Test func resumedRunIsBitIdenticalToAnUninterruptedOne() throws {
            let root = TrainCommandTests().syntheticRoot()
            func train(_ extra: [String]) throws {
                _ = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--hidden", "16", "--batch-size", "64",
                                                 "--data", root, "--out", root + "/out", "--seed", "5"] + extra).run(print: { _ in })
            }
            try train(["--epochs", "3", "--checkpoint-dir", root + "/straight"])
            try train(["--epochs", "3", "--stop-after-epoch", "1", "--checkpoint-dir", root + "/interrupted"])
            var lines: [String] = []
            _ = try TrainCommand(arguments: ["mlp", "--dataset", "mnist", "--hidden", "16", "--batch-size", "64", "--data", root,
                                             "--out", root + "/out", "--seed", "5", "--epochs", "3", "--resume",
                                             "--checkpoint-dir", root + "/interrupted"]).run(print: { lines.append($0) })
            #expect(lines.contains { $0.hasPrefix("resumed from") })
            let a = try CheckpointFile.load(from: try #require(CheckpointFile.latest(inDirectory: root + "/straight")))
            let b = try CheckpointFile.load(from: try #require(CheckpointFile.latest(inDirectory: root + "/interrupted")))
            #expect(a.epoch == 3 && b.epoch == 3 && a.step == b.step)
            #expect(a.random != nil && a.random?.seed == b.random?.seed && a.random?.offset == b.random?.offset)
            for (name, tensor) in a.model {
                let identical = tensor.scalars(as: Float.self) == b.model[name]!.scalars(as: Float.self)
                #expect(identical, "model tensor \(name) differs")
            }
            for (name, tensor) in a.optimizerTensors {
                let identical = tensor.scalars(as: Float.self) == b.optimizerTensors[name]!.scalars(as: Float.self)
                #expect(identical, "optimizer tensor \(name) differs")
            }
            var inspected: [String] = []
            try InspectCommand(arguments: [CheckpointFile.latest(inDirectory: root + "/straight")!]).run(print: { inspected.append($0) })
            #expect(inspected.contains { $0.contains("weight  [16, 784] float32") })
            #expect(inspected.contains { $0.contains("@epoch = 3") })

            // --verify reads everything: a flipped data byte that the listing cannot see fails it.
            let latest = try #require(CheckpointFile.latest(inDirectory: root + "/straight"))
            try InspectCommand(arguments: [latest, "--verify"]).run(print: { inspected.append($0) })
            #expect(inspected.last?.hasPrefix("verified: ") == true)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: latest)))
            bytes[bytes.count - 100] ^= 0x40
            let damaged = root + "/damaged.h5"
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            #expect(throws: CheckpointError.self) { try InspectCommand(arguments: [damaged, "--verify"]).run(print: { _ in }) }
        }
    }

    @Suite("tessera attack")
    struct AttackCommandTests {
        @Test func reportsCleanAndAdversarialAccuracy() throws {
            let root = TrainCommandTests().syntheticRoot()
            var lines: [String] = []
            try AttackCommand(arguments: ["--dataset", "mnist", "--data", root, "--epochs", "2", "--limit", "60", "--steps", "3",
                                          "--epsilon", "0,0.3", "--checkpoint-dir", root + "/attack",
                                          "--adversarial-epochs", "1", "--adversarial-samples", "120"]).run(print: { lines.append($0) })
            let rows = lines.filter { $0.hasPrefix("0.") }
            #expect(rows.count == 4)
            let first = rows[0].split(separator: " ").compactMap { Double($0) }
            let strong = rows[1].split(separator: " ").compactMap { Double($0) }
            #expect(first.count == 4 && strong.count == 4)
            // At epsilon 0 attacks change nothing; at 0.3 neither attack beats clean accuracy.
            #expect(first[1] == first[2] && first[1] == first[3])
            #expect(strong[2] <= strong[1] && strong[3] <= strong[1])
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/attack/results.json")))
            // The table prints four decimals.
            #expect(Swift.abs((results["final"]?["clean_accuracy"]?.numberValue ?? -1) - strong[1]) < 5e-5)
            #expect(Swift.abs((results["final"]?["pgd_accuracy_eps_0.3"]?.numberValue ?? -1) - strong[3]) < 5e-5)
            #expect(results["final"]?["adversarially_trained_fgsm_accuracy_eps_0.3"] != nil)
        }

        @Test func badArgumentsAreUsageErrors() {
            #expect(throws: UsageError.self) { try AttackCommand(arguments: ["--method", "cw"]) }
            #expect(throws: UsageError.self) { try AttackCommand(arguments: ["--epsilon", "-1"]) }
            #expect(throws: UsageError.self) { try AttackCommand(arguments: ["--model", "resnet"]) }
        }

        @Test func resnetAndPlainCNNTrainOnImages() throws {
            let root = TrainCommandTests().syntheticRoot()
            for model in ["resnet20", "cnn"] {
                let command = try TrainCommand(arguments: [model, "--dataset", "mnist", "--depth", "8", "--epochs", "1",
                                                           "--train-subset", "100", "--batch-size", "50", "--optimizer", "adam",
                                                           "--data", root, "--out", root + "/\(model)"])
                let history = try command.run(print: { _ in })
                #expect(history.epochs.count == 1 && history.epochs[0]["train_loss"]!.isFinite)
            }
            #expect(throws: UsageError.self) { try TrainCommand(arguments: ["cnn", "--depth", "21"]) }
            #expect(throws: UsageError.self) { try TrainCommand(arguments: ["mlp", "--depth", "20"]) }
        }
    }
}
