import Foundation
import Testing

/// Runs `distributed-checks` (built beside this test binary) under mpirun and reads the
/// ranks' reports.
enum Ranks {
    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { mpirun != nil && FileManager.default.isExecutableFile(atPath: checks) }

    static let checks: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("distributed-checks").path
    }()

    struct Run {
        let status: Int32
        let output: String
        let seconds: Double
        let reports: [[String: Any]]
    }

    static func directory() -> String {
        NSTemporaryDirectory() + "tessera-distributed-\(UInt64.random(in: 0..<UInt64.max))"
    }

    /// `mpirun -np ranks distributed-checks scenario OUT arguments`.
    static func run(_ ranks: Int, _ scenario: String, _ arguments: [String] = [], out: String = directory()) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", checks, scenario, out] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        environment["TESSERA_THREADS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let started = Date()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let reports: [[String: Any]] = (0..<ranks).compactMap { rank in
            guard let data = FileManager.default.contents(atPath: "\(out)/rank\(rank).json") else { return nil }
            return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self),
                   seconds: Date().timeIntervalSince(started), reports: reports)
    }
}

@Suite("Two ranks under mpirun", .enabled(if: Ranks.available, "needs mpirun (CI/setup installs Open MPI) and distributed-checks"),
       .serialized)
struct MultiProcessTests {
    /// All-reduce (sum, average, max, min), its asynchronous form, broadcast, all-gather,
    /// reduce-scatter and barrier, for every dtype and sizes 1, 7, 1000 and 100,003, against
    /// their definitions on each rank.
    @Test(arguments: [2, 3])
    func collectivesAgreeWithTheirDefinitions(ranks: Int) throws {
        let run = try Ranks.run(ranks, "collectives")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.reports.count == ranks)
        for report in run.reports {
            #expect((report["checks"] as? Int ?? 0) > 400)
            #expect((report["failures"] as? [String])?.isEmpty == true, "\(report["failures"] ?? "")")
        }
    }

    /// Two ranks with batch 32 end where one process with batch 64 does after 20 SGD and 20
    /// Adam steps (float32 tolerance), and bit-identical with each other: one bucket, small
    /// buckets (gradients in flight while backward runs), and two accumulated half-batches.
    @Test(arguments: [[], ["--bucket-bytes", "300"], ["--bucket-bytes", "300", "--accumulate"], ["--zero"]])
    func twoRanksMatchOneProcessWithTheWholeBatch(arguments: [String]) throws {
        let run = try Ranks.run(2, "equivalence", arguments)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.reports.count == 2)
        for report in run.reports {
            for optimizer in ["sgd", "adam"] {
                let figures = try #require(report[optimizer] as? [String: Any])
                let difference = try #require(figures["max_difference"] as? Double)
                #expect(difference < 2e-6, "\(optimizer): \(difference)")
                #expect(figures["ranks_identical"] as? Bool == true)
                #expect((figures["buckets"] as? Int ?? 0) >= (arguments.contains("--bucket-bytes") ? 3 : 1))
                guard arguments.contains("--zero") else { continue }
                // ZeRO-1: each rank keeps part of the state; gathered onto rank 0 it is the
                // unsharded optimizer's, and loading that state shards it again.
                let fraction = try #require(figures["local_fraction"] as? Double)
                #expect(fraction > 0 && fraction < 1)
                if report["rank"] as? Int == 0 {
                    #expect((figures["state_difference"] as? Double ?? 1) < 2e-6, "\(figures)")
                    #expect(figures["reloaded_state_difference"] as? Double == 0, "\(figures)")
                }
            }
        }
    }

    /// The Trainer over DistributedSampler shards: 1 rank × batch 64 checkpointed after 2
    /// epochs and resumed on 2 ranks × 32 ends where 4 uninterrupted epochs on 1 rank do, and
    /// the reverse (2 ranks, then 1); rank 0 alone writes results.json with world_size.
    @Test(arguments: [(1, 2), (2, 1)])
    func resumesOnAnotherWorldSize(first: Int, second: Int) throws {
        let checkpoints = Ranks.directory()
        let start = try Ranks.run(first, "trainer", ["--epochs", "2", "--checkpoints", checkpoints])
        #expect(start.status == 0, "\(start.output)")
        let out = Ranks.directory()
        let resumed = try Ranks.run(second, "trainer", ["--epochs", "4", "--checkpoints", checkpoints, "--resume"], out: out)
        #expect(resumed.status == 0, "\(resumed.output)")
        let whole = try Ranks.run(first, "trainer", ["--epochs", "4"])
        #expect(whole.status == 0, "\(whole.output)")
        let a = try #require(resumed.reports.first?["parameters"] as? [Double])
        let b = try #require(whole.reports.first?["parameters"] as? [Double])
        #expect(a.count == b.count && a.count > 0)
        #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        #expect(resumed.reports.first?["epochs"] as? Int == 4)
        let results = try #require(FileManager.default.contents(atPath: "\(out)/run/results.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: results) as? [String: Any])
        let configuration = try #require(json["configuration"] as? [String: Any])
        #expect(configuration["world_size"] as? Double == Double(second))
        #expect((json["final"] as? [String: Any])?["validation_accuracy"] != nil)
    }

    /// With findUnusedParameters, a head one rank leaves out still gets the other rank's
    /// gradient (averaged as one process averaging both losses would), and a head no rank
    /// uses keeps no gradient; without it, the left-out parameter is named in the error.
    @Test func unusedParametersAreFoundWhenAsked() throws {
        let run = try Ranks.run(2, "unused")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.reports.count == 2)
        for report in run.reports {
            #expect((report["max_difference"] as? Double ?? 1) < 2e-6, "\(report)")
            #expect(report["spare_without_gradient"] as? Bool == true)
            #expect((report["strict_error"] as? String ?? "").contains("parameter 'spare.bias' received no gradient"), "\(report)")
        }
    }

    /// The Trainer's gradient accumulation skips synchronisation inside a window: 2 ranks ×
    /// 2 accumulated batches of 16 end where 1 process with batches of 64 does.
    @Test func trainerAccumulationMatchesTheWholeBatch() throws {
        let accumulated = try Ranks.run(2, "trainer", ["--epochs", "2", "--accumulate", "2"])
        #expect(accumulated.status == 0, "\(accumulated.output)")
        let whole = try Ranks.run(1, "trainer", ["--epochs", "2"])
        #expect(whole.status == 0, "\(whole.output)")
        let a = try #require(accumulated.reports.first?["parameters"] as? [Double])
        let b = try #require(whole.reports.first?["parameters"] as? [Double])
        #expect(a.count == b.count && !a.isEmpty)
        #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        let losses = [accumulated, whole].compactMap { $0.reports.first?["train_loss"] as? Double }
        #expect(losses.count == 2 && abs(losses[0] - losses[1]) < 1e-5, "\(losses)")
    }

    /// ZeRO-1 through the Trainer: 2 ranks sharding SGD's momentum checkpoint after 2 epochs
    /// (the shards gathered onto rank 0), and 1 process with a plain SGD resumes from it and
    /// ends where 4 uninterrupted epochs do.
    @Test func shardedOptimizerStateCheckpointsWhole() throws {
        let checkpoints = Ranks.directory()
        let start = try Ranks.run(2, "trainer", ["--epochs", "2", "--checkpoints", checkpoints, "--zero"])
        #expect(start.status == 0, "\(start.output)")
        let resumed = try Ranks.run(1, "trainer", ["--epochs", "4", "--checkpoints", checkpoints, "--resume"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let whole = try Ranks.run(2, "trainer", ["--epochs", "4"])
        let a = try #require(resumed.reports.first?["parameters"] as? [Double])
        let b = try #require(whole.reports.first?["parameters"] as? [Double])
        #expect(a.count == b.count && !a.isEmpty)
        #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
    }

    /// The NCCL path where no GPU exists: NCCLProcessGroup over a stand-in libnccl that logs
    /// every call and carries it out through MPI on host memory. Rank 0 alone draws the unique
    /// id, both ranks join one communicator with it, every call names the group's stream and
    /// communicator, all-reduces are in place with NCCL's datatype and operation codes; the
    /// collectives and two-rank training through it agree with their definitions.
    @Test func ncclCallSequenceAgainstAStandIn() throws {
        let run = try Ranks.run(2, "nccl")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.reports.count == 2)
        var identities: Set<String> = []
        for report in run.reports {
            let rank = try #require(report["rank"] as? Int)
            let setup = try #require(report["setup_calls"] as? [String])
            #expect(setup.first == (rank == 0 ? "ncclGetUniqueId" : setup.first) && setup.filter { $0 == "ncclGetUniqueId" }.count == (rank == 0 ? 1 : 0))
            let initialize = try #require(setup.last)
            #expect(initialize.hasPrefix("ncclCommInitRank nranks=2 rank=\(rank) id="), "\(initialize)")
            identities.insert(String(initialize.split(separator: "=").last!))
            #expect((report["failures"] as? [String])?.isEmpty == true, "\(report["failures"] ?? "")")
            #expect((report["checks"] as? Int ?? 0) > 400)
            let calls = try #require(report["calls"] as? [String])
            let reduces = calls.filter { $0.hasPrefix("ncclAllReduce") }
            #expect(!reduces.isEmpty && reduces.allSatisfy { $0.hasSuffix("inplace=true") })
            let datatypes = Set(reduces.compactMap { $0.split(separator: " ").first { $0.hasPrefix("datatype=") } })
            #expect(datatypes == ["datatype=1", "datatype=2", "datatype=4", "datatype=7", "datatype=8"], "\(datatypes)")
            let operations = Set(reduces.compactMap { $0.split(separator: " ").first { $0.hasPrefix("op=") } })
            #expect(operations == ["op=0", "op=2", "op=3"], "\(operations)")
            #expect(calls.contains { $0.hasPrefix("ncclBroadcast") } && calls.contains { $0.hasPrefix("ncclAllGather") }
                    && calls.contains { $0.hasPrefix("ncclReduceScatter") })
            let training = try #require(report["equivalence"] as? [String: Any])
            for optimizer in ["sgd", "adam"] {
                let figures = try #require(training[optimizer] as? [String: Any])
                #expect((figures["max_difference"] as? Double ?? 1) < 2e-6)
                #expect(figures["ranks_identical"] as? Bool == true)
            }
        }
        #expect(identities.count == 1, "the ranks joined with different ids: \(identities)")
    }

    /// A checkpoint written mid-epoch by 1 rank (after 3 of 8 batches) resumes on 2 ranks at
    /// the same point of the epoch: the run ends where 2 uninterrupted epochs on 1 rank do.
    @Test func resumesMidEpochOnAnotherWorldSize() throws {
        let checkpoints = Ranks.directory()
        let start = try Ranks.run(1, "trainer", ["--epochs", "1", "--checkpoints", checkpoints, "--every-steps", "3"])
        #expect(start.status == 0, "\(start.output)")
        let saved = try FileManager.default.contentsOfDirectory(atPath: checkpoints).sorted()
        #expect(saved.contains("step-000000003.h5"), "\(saved)")
        for name in saved where name != "step-000000003.h5" { try FileManager.default.removeItem(atPath: checkpoints + "/" + name) }
        let resumed = try Ranks.run(2, "trainer", ["--epochs", "2", "--checkpoints", checkpoints, "--resume"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let whole = try Ranks.run(1, "trainer", ["--epochs", "2"])
        let a = try #require(resumed.reports.first?["parameters"] as? [Double])
        let b = try #require(whole.reports.first?["parameters"] as? [Double])
        #expect(a.count == b.count && !a.isEmpty)
        #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        let losses = [resumed, whole].compactMap { $0.reports.first?["train_loss"] as? Double }
        #expect(losses.count == 2 && abs(losses[0] - losses[1]) < 1e-5, "\(losses)")
    }

    /// BatchNorm's running statistics, updated by each rank's own batch, are rank 0's again
    /// after prepareForward (PyTorch's broadcast_buffers).
    @Test func buffersFollowRankZero() throws {
        let run = try Ranks.run(2, "buffers")
        #expect(run.status == 0, "\(run.output)")
        for report in run.reports {
            #expect(report["diverged"] as? Bool == true)
            #expect(report["synchronised"] as? Bool == true)
        }
    }

    /// A rank killed mid-training ends the whole job, with a message naming it, well within
    /// the collective timeout.
    @Test func aKilledRankEndsTheJob() throws {
        let run = try Ranks.run(2, "fail", ["--timeout", "60"])
        #expect(run.status != 0)
        #expect(run.seconds < 50, "took \(run.seconds) s")
        #expect(run.output.contains("rank 1"), "\(run.output)")
    }

    /// A rank that stops calling collectives makes the other's time out with an error naming
    /// the collective and the rank, and the job ends (MPI_Abort), never hangs.
    @Test func aStalledRankTimesOut() throws {
        let run = try Ranks.run(2, "stall", ["--timeout", "2", "--sleep", "60"])
        #expect(run.status != 0)
        #expect(run.seconds < 40, "took \(run.seconds) s")
        #expect(run.output.contains("allReduce (collective #1) timed out after 2.0 s on rank 0"), "\(run.output)")
    }

    /// Models that differ across ranks are refused when DistributedDataParallel is made, on
    /// every rank, naming the rank, the parameter and both shapes.
    @Test func mismatchedModelsAreRefused() throws {
        let run = try Ranks.run(2, "mismatch")
        #expect(run.status != 0)
        #expect(run.output.contains("rank 1's model differs from rank 0's at 'layers.0.weight': [16, 10] against [32, 10]"),
                "\(run.output)")
    }
}
