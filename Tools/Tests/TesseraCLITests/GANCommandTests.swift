import CheckpointHDF5
import Foundation
import Generative
import TensorCore
import Testing
@testable import TesseraCLI
import Training
import Vision

extension CommandTests.TrainCommandTests {
    @Suite("tessera train gan|dcgan|wgan-gp")
    struct GANCommandTests {
        /// A tiny conditional DCGAN on the synthetic digits: per-epoch grids, the classifier's
        /// figures at the end (from a LeNet-5 checkpoint given by --classifier), model.h5 with its configuration; then
        /// `tessera sample dcgan` as PNG and HDF5 (/samples in [0, 1], /labels), and a class
        /// outside the model's range refused.
        @Test func dcganTrainsJudgesAndSamples() throws {
            let root = CommandTests.TrainCommandTests().syntheticRoot()
            let out = root + "/dcgan"
            var lines: [String] = []
            let classifier = root + "/lenet.h5"
            try CheckpointFile.save(Checkpoint(model: LeNet5(generator: RandomGenerator(seed: 1)).stateDict()), to: classifier)
            try GANCommand(arguments: ["dcgan", "--data", root, "--out", out, "--epochs", "2", "--width", "4", "--latent", "8",
                                       "--batch-size", "50", "--conditional", "--samples", "40", "--classifier", classifier])
                .run(print: { lines.append($0) })
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            let final = try #require(results["final"])
            for key in ["classifier_confident_fraction", "class_fraction_min", "class_fraction_max", "class_fraction_9",
                        "conditioned_class_accuracy", "train_discriminator_loss", "train_generator_loss"] {
                #expect(final[key]?.numberValue != nil, "final lacks \(key)")
            }
            #expect(results["configuration"]?["classifier_test_accuracy"]?.numberValue != nil)
            #expect(lines.contains { $0.hasPrefix("classifier on 40 samples") })
            for file in ["samples-epoch-001.png", "samples-epoch-002.png", "model.h5", "curves.png"] {
                #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
            }
            #expect(try CheckpointFile.attributes(of: out + "/model.h5")["meta.kind"] == .string("gan"))

            let png = try GenerativeSampleCommand(arguments: ["dcgan", "--checkpoint", out + "/model.h5", "--out", out + "/drawn.png",
                                                              "--count", "12", "--class", "3"]).run(print: { _ in })
            #expect(png.shape == [12, 1, 28, 28] && FileManager.default.fileExists(atPath: out + "/drawn.png"))
            try GenerativeSampleCommand(arguments: ["dcgan", "--checkpoint", out + "/model.h5", "--out", out + "/drawn.h5",
                                                    "--count", "20"]).run(print: { _ in })
            let samples = try CheckpointFile.readTensor(named: "samples", section: "", from: out + "/drawn.h5")
            let labels = try CheckpointFile.readTensor(named: "labels", section: "", from: out + "/drawn.h5")
            #expect(samples.shape == [20, 1, 28, 28] && samples.dtype == .float32)
            let values = samples.scalars(as: Float.self)
            #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(labels.dtype == .int64 && labels.scalars(as: Int64.self) == (0..<20).map { Int64($0 % 10) })
            #expect { try GenerativeSampleCommand(arguments: ["dcgan", "--checkpoint", out + "/model.h5", "--out", out + "/c.png",
                                                              "--class", "10"]).run() } throws: { error in
                (error as? UsageError)?.message.contains("--class 10") == true
            }
            // A GAN's file is not a VAE's, and the reverse.
            #expect(throws: GenerativeModelError.wrongModel(path: out + "/model.h5", expected: "vae", found: "gan")) {
                try GenerativeSampleCommand(arguments: ["vae", "--checkpoint", out + "/model.h5", "--out", out + "/v.png"]).run()
            }
        }

        /// WGAN-GP on the 8 Gaussians for two short epochs: the toy measures each epoch, a
        /// scatter plot, and `tessera sample wgan-gp` drawing points.
        @Test func wganGPOnAToyReportsTheModeMeasures() throws {
            let out = NSTemporaryDirectory() + "tessera-wgan-\(UInt64.random(in: 0..<UInt64.max))"
            let history = try GANCommand(arguments: ["wgan-gp", "--out", out, "--epochs", "2", "--width", "16", "--train-size", "2560",
                                                     "--samples", "200"]).run(print: { _ in })
            for key in ["mmd", "mode_coverage", "within_3_sigma", "train_gradient_penalty"] {
                #expect(history.epochs.last?[key] != nil, "no \(key)")
            }
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            #expect(results["final"]?["mode_coverage"]?.numberValue != nil)
            // The toys' defaults: Gulrajani et al.'s toy λ and their linear decay to 0.
            #expect(results["configuration"]?["penalty_weight"]?.numberValue == 0.1)
            #expect(results["configuration"]?["schedule"]?.stringValue == "linear")
            #expect(history.epochs.last?["learning_rate"] == 0)
            #expect(FileManager.default.fileExists(atPath: out + "/samples-epoch-002.png"))
            let points = try GenerativeSampleCommand(arguments: ["wgan-gp", "--checkpoint", out + "/model.h5", "--out", out + "/p.png",
                                                                 "--count", "300"]).run(print: { _ in })
            #expect(points.shape == [300, 2] && FileManager.default.fileExists(atPath: out + "/p.png"))
        }

        @Test(arguments: [
            (["gan", "--dataset", "cifar10"], "--dataset"), (["dcgan", "--dataset", "moons"], "--dataset"),
            (["gan", "--conditional"], "--conditional"), (["gan", "--loss", "minimax"], "--loss"),
            (["gan", "--loss", "wasserstein"], "--loss wasserstein"), (["wgan-gp", "--penalty", "-1"], "--penalty"),
            (["wgan-gp", "--critic-steps", "0"], "--critic-steps"), (["dcgan", "--width", "3000000000"], "--width"),
            (["gan", "--classifier", "x.h5"], "--classifier"), (["gan", "--samples", "1"], "--samples"),
            (["dcgan", "extra"], "unexpected argument"), (["gan", "--lr", "0"], "--lr"),
            (["wgan-gp", "--schedule", "step"], "--schedule"),
        ] as [([String], String)])
        func misuseIsAUsageErrorNamingTheOption(arguments: [String], option: String) {
            #expect { try GANCommand(arguments: arguments) } throws: { error in
                (error as? UsageError)?.message.contains(option) == true
            }
        }
    }
}

extension CommandTests.TrainCommandTests {
    @Suite("tessera train ddpm")
    struct DiffusionCommandTests {
        /// A tiny conditional model on the synthetic digits for one epoch: the grid, the
        /// classifier's figures, model.h5 with the configuration; then `tessera sample ddpm` with
        /// guidance to HDF5, and a guidance the model cannot give refused.
        @Test func ddpmTrainsJudgesAndSamples() throws {
            let root = CommandTests.TrainCommandTests().syntheticRoot()
            let out = root + "/ddpm"
            let classifier = root + "/lenet.h5"
            try CheckpointFile.save(Checkpoint(model: LeNet5(generator: RandomGenerator(seed: 1)).stateDict()), to: classifier)
            try DiffusionCommand(arguments: ["ddpm", "--data", root, "--out", out, "--epochs", "1", "--channels", "4", "--multipliers", "1,1,1",
                                             "--timesteps", "20", "--batch-size", "100", "--conditional", "--sampling-steps", "2",
                                             "--samples", "20", "--classifier", classifier]).run(print: { _ in })
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            let final = try #require(results["final"])
            for key in ["conditioned_class_accuracy", "classifier_confident_fraction", "sampling_steps", "guidance", "sampling_seconds", "train_loss"] {
                #expect(final[key]?.numberValue != nil, "final lacks \(key)")
            }
            #expect(final["guidance"]?.numberValue == 2)
            for file in ["samples-epoch-001.png", "final-samples.png", "model.h5"] {
                #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
            }
            try GenerativeSampleCommand(arguments: ["ddpm", "--checkpoint", out + "/model.h5", "--out", out + "/drawn.h5", "--count", "6",
                                                    "--steps", "3", "--class", "4", "--guidance", "3"]).run(print: { _ in })
            let samples = try CheckpointFile.readTensor(named: "samples", section: "", from: out + "/drawn.h5")
            #expect(samples.shape == [6, 1, 28, 28])
            #expect(try CheckpointFile.readTensor(named: "labels", section: "", from: out + "/drawn.h5").scalars(as: Int64.self) == [4, 4, 4, 4, 4, 4])
            #expect { try GenerativeSampleCommand(arguments: ["ddpm", "--checkpoint", out + "/model.h5", "--out", out + "/x.png",
                                                              "--steps", "21"]).run() } throws: { error in
                (error as? UsageError)?.message.contains("more than the model's 20 timesteps") == true
            }
        }

        @Test(arguments: [
            (["ddpm", "--guidance", "3"], "--guidance"), (["ddpm", "--conditional", "--condition-dropout", "0", "--guidance", "2"], "--condition-dropout"),
            (["ddpm", "--prediction", "score"], "--prediction"), (["ddpm", "--schedule", "sigmoid"], "--schedule"),
            (["ddpm", "--multipliers", "1,2,2,2"], "--multipliers"), (["ddpm", "--multipliers", "1,,2"], "--multipliers"),
            (["ddpm", "--attention-levels", "3"], "--attention-levels"), (["ddpm", "--sampling-steps", "2000"], "--sampling-steps"),
            (["ddpm", "--timesteps", "1"], "--timesteps"), (["ddpm", "--channels", "6"], "--channels"),
            (["ddpm", "--condition-dropout", "0.2"], "--condition-dropout"), (["ddpm", "--dataset", "8gaussians"], "--dataset"),
            (["ddpm", "--time-budget", "0"], "--time-budget"), (["ddpm", "--ema", "1"], "--ema"),
        ] as [([String], String)])
        func misuseIsAUsageErrorNamingTheOption(arguments: [String], option: String) {
            #expect { try DiffusionCommand(arguments: arguments) } throws: { error in
                (error as? UsageError)?.message.contains(option) == true
            }
        }
    }
}

extension CommandTests.TrainCommandTests {
    @Suite("tessera train score|flow")
    struct ToyModelCommandTests {
        func directory() -> String { NSTemporaryDirectory() + "tessera-toy-\(UInt64.random(in: 0..<UInt64.max))" }

        /// Two short epochs of each: the per-epoch measures, the scatter plots, model.h5, the
        /// flow's test log-likelihood beside the fitted Gaussian's, and `tessera sample` drawing points.
        @Test(arguments: [["score", "--process", "ncsn", "--sampling-steps", "5"], ["score", "--process", "vp", "--sampler", "ode", "--sampling-steps", "20",
                                                                                                   "--coordinate-frequency", "0"],
                          ["flow", "--layers", "4"]])
        func trainsMeasuresAndSamples(arguments: [String]) throws {
            let out = directory()
            let history = try ToyModelCommand(arguments: arguments + ["--out", out, "--epochs", "2", "--hidden", "16", "--train-size", "1024",
                                                                       "--samples", "200"]).run(print: { _ in })
            #expect(history.epochs.last?["mmd"] != nil)
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            let final = try #require(results["final"])
            if arguments[0] == "flow" {
                #expect(final["test_log_likelihood"]?.numberValue != nil && final["gaussian_test_log_likelihood"]?.numberValue != nil)
            } else {
                #expect(final["mode_coverage"]?.numberValue != nil && final["within_3_sigma"]?.numberValue != nil)
            }
            #expect(FileManager.default.fileExists(atPath: out + "/samples-epoch-002.png"))
            let points = try GenerativeSampleCommand(arguments: [arguments[0], "--checkpoint", out + "/model.h5", "--out", out + "/p.h5",
                                                                 "--count", "50"]).run(print: { _ in })
            #expect(points.shape == [50, 2])
            #expect(try CheckpointFile.readTensor(named: "samples", section: "", from: out + "/p.h5").shape == [50, 2])
            // A score model's file is not a flow's.
            let other = arguments[0] == "flow" ? "score" : "flow"
            #expect(throws: GenerativeModelError.self) {
                try GenerativeSampleCommand(arguments: [other, "--checkpoint", out + "/model.h5", "--out", out + "/q.png"]).run()
            }
        }

        @Test(arguments: [
            (["score", "--dataset", "mnist"], "--dataset"), (["score", "--process", "ve"], "--process"),
            (["score", "--process", "ncsn", "--sampler", "ode"], "--sampler"), (["flow", "--sampler", "sde"], "--sampler"),
            (["flow", "--layers", "0"], "--layers"), (["score", "--layers", "4"], "--layers"), (["flow", "--hidden", "4000000000"], "--hidden"),
            (["score", "--samples", "1"], "--samples"), (["flow", "extra"], "unexpected argument"),
            (["score", "--coordinate-frequency", "0.5"], "--coordinate-frequency"), (["flow", "--coordinate-frequency", "10"], "--coordinate-frequency"),
        ] as [([String], String)])
        func misuseIsAUsageErrorNamingTheOption(arguments: [String], option: String) {
            #expect { try ToyModelCommand(arguments: arguments) } throws: { error in
                (error as? UsageError)?.message.contains(option) == true
            }
        }
    }
}
