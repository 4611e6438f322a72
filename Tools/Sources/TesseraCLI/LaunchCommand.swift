import Foundation

/// `tessera launch --nproc N -- train ...`: runs `tessera train ... --distributed` as N ranks
/// on this machine under `mpirun` (as `torchrun --nproc-per-node` does for PyTorch), giving
/// each rank an equal share of the cores.
public struct LaunchCommand {
    static let spec = CommandSpec(
        usage: "tessera launch --nproc N [options] -- train MODEL [train options]",
        summary: """
        Starts N processes of this tessera under mpirun, each running the command after `--`
        with --distributed (added when missing) and, unless given, --threads set to the cores
        divided among the ranks. For several machines, call mpirun yourself:
        mpirun -np N --hostfile HOSTS tessera train MODEL --distributed.
        """,
        options: [
            OptionSpec("nproc", "N", "processes (ranks) to start (default 2)"),
            OptionSpec("mpirun", "PATH", "the MPI launcher (default mpirun from PATH)"),
            OptionSpec("timeout", "S", "seconds a rank waits in a collective before the job ends (default 300)"),
        ],
        footer: "Needs Open MPI (Debian: openmpi-bin). Each rank's --batch-size is its own: the global batch is N times it.")
    public static var usage: String { spec.help }

    public var processCount = 2
    public var launcher = "mpirun"
    public var timeout: Double?
    public var command: [String] = []

    public init(arguments: [String]) throws {
        guard let split = arguments.firstIndex(of: "--") else {
            if arguments.contains("--help") { throw HelpRequested(text: Self.usage) }
            throw UsageError("missing `-- train MODEL ...`: tessera launch --nproc 2 -- train mlp")
        }
        let args = try Self.spec.parse(Array(arguments[..<split]))
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])' before --") }
        processCount = try args.value("nproc", default: 2, where: { $0 > 0 && $0 <= 1024 }, expected: "a number of processes from 1 to 1024")
        launcher = args.values["mpirun"] ?? launcher
        if args.values["timeout"] != nil {
            timeout = try args.value("timeout", default: 300.0, where: { $0 > 0 && $0.isFinite }, expected: "a positive number of seconds")
        }
        command = Array(arguments[(split + 1)...])
        guard command.first == "train", let model = command.dropFirst().first,
              ["mlp", "lenet", "resnet20", "cnn"].contains(model) else {
            throw UsageError("tessera launch runs `train mlp|lenet|resnet20|cnn ...`; got `\(command.joined(separator: " "))`")
        }
        // The train command's own checks, before any process starts.
        _ = try TrainCommand(arguments: Array(command.dropFirst()) + (command.contains("--distributed") ? [] : ["--distributed"]))
        guard let resolved = Self.executable(launcher) else {
            throw UsageError("--mpirun: '\(launcher)' is not an executable here (install openmpi-bin, or give its path)")
        }
        launcher = resolved
    }

    /// The full mpirun command line this launch runs.
    public var launchArguments: [String] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rank = command
        if !rank.contains("--distributed") { rank.append("--distributed") }
        if !rank.contains("--threads") { rank += ["--threads", "\(max(1, cores / processCount))"] }
        var mpi = ["-np", "\(processCount)", "--bind-to", "none"]
        // More ranks than cores: Open MPI refuses unless told, and then yields when idle.
        if processCount > cores { mpi.append("--oversubscribe") }
        if getuid() == 0 { mpi.append("--allow-run-as-root") }
        if let timeout { mpi += ["-x", "TESSERA_COLLECTIVE_TIMEOUT=\(timeout)"] }
        return mpi + [Self.selfPath] + rank
    }

    /// Runs mpirun and returns its exit status (a rank's failure ends the job with non-zero).
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = launchArguments
        output("launching \(processCount) ranks: \(launcher) \(launchArguments.joined(separator: " "))")
        do {
            try process.run()
        } catch {
            throw UsageError("--mpirun: cannot start \(launcher): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// This tessera binary (the ranks run the same one).
    static var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func executable(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
