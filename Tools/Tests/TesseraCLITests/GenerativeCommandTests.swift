import CheckpointHDF5
import Foundation
import Generative
import TensorCore
import Testing
@testable import TesseraCLI
import Training

extension CommandTests.TrainCommandTests {
    @Suite("tessera train vae")
    struct GenerativeCommandTests {
        @Test func trainsAndReportsTheBoundsAndPictures() throws {
            let root = CommandTests.TrainCommandTests().syntheticRoot()
            var lines: [String] = []
            let out = root + "/vae"
            try GenerativeCommand(arguments: ["vae", "--data", root, "--out", out, "--epochs", "2", "--hidden", "32", "--latent", "4",
                                              "--batch-size", "100", "--iwae-samples", "20", "--iwae-images", "40"])
                .run(print: { lines.append($0) })
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            let final = try #require(results["final"])
            let elbo = try #require(final["iwae_images_negative_elbo"]?.numberValue), iwae = try #require(final["test_iwae_nll"]?.numberValue)
            #expect(final["test_negative_elbo"]?.numberValue != nil && final["iwae_samples"]?.numberValue == 20)
            // The importance-weighted bound is the tighter one.
            #expect(iwae < elbo, "IWAE \(iwae) vs negative ELBO \(elbo)")
            for file in ["samples-epoch-001.png", "samples-epoch-002.png", "reconstructions.png", "interpolation.png", "model.h5", "curves.png"] {
                #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
            }
            let attributes = try CheckpointFile.attributes(of: out + "/model.h5")
            #expect(attributes["meta.kind"] == .string("vae"))
            guard case .string(let config)? = attributes["meta.config"] else { Issue.record("no configuration in model.h5"); return }
            #expect(config.contains("\"latentSize\":4"))

            // tessera sample vae: prior samples and interpolations from the saved model.
            let samples = try GenerativeSampleCommand(arguments: ["vae", "--checkpoint", out + "/model.h5", "--out", out + "/drawn.png",
                                                                  "--count", "12"]).run(print: { _ in })
            #expect(samples.shape == [12, 1, 28, 28] && FileManager.default.fileExists(atPath: out + "/drawn.png"))
            let path = try GenerativeSampleCommand(arguments: ["vae", "--checkpoint", out + "/model.h5", "--out", out + "/lines.png",
                                                                "--interpolate", "--steps", "5", "--data", root]).run(print: { _ in })
            #expect(path.shape == [40, 1, 28, 28])
            #expect(throws: UsageError.self) {
                try GenerativeSampleCommand(arguments: ["vae", "--checkpoint", out + "/model.h5", "--out", out + "/c.png", "--class", "3"]).run()
            }
            // Another kind of file is a typed error naming what is missing.
            let plain = root + "/plain.h5"
            try CheckpointFile.save(Checkpoint(model: ["w": Tensor.zeros([2])]), to: plain)
            #expect(throws: GenerativeModelError.notAGenerativeModel(path: plain, missing: "kind")) {
                try GenerativeSampleCommand(arguments: ["vae", "--checkpoint", plain, "--out", out + "/p.png"]).run()
            }
        }

        @Test(arguments: [
            (["vae", "--latent", "0"], "--latent"), (["vae", "--architecture", "resnet"], "--architecture"),
            (["vae", "--likelihood", "poisson"], "--likelihood"), (["vae", "--beta", "-1"], "--beta"),
            (["vae", "--iwae-samples", "0"], "--iwae-samples"), (["vae", "--hidden", "4000000000"], "--hidden"),
            (["vae", "--dataset", "cifar10"], "--dataset"), (["vae", "extra"], "unexpected argument"),
        ] as [([String], String)])
        func misuseIsAUsageErrorNamingTheOption(arguments: [String], option: String) {
            #expect { try GenerativeCommand(arguments: arguments) } throws: { error in
                (error as? UsageError)?.message.contains(option) == true
            }
        }
    }
}
