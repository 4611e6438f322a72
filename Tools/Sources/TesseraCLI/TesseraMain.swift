/// The `tessera` command: dispatches to subcommands, maps errors to exit codes.
public enum TesseraMain {
    public static let usage = """
    usage: tessera <command> [options]

    commands:
      demo     fit a small model on synthetic data and print the loss falling
      help     show this help

    Run 'tessera <command> --help' for a command's options.
    """

    /// Returns the process exit code: 0 success, 1 failure, 2 usage error.
    public static func run(_ arguments: [String], print output: (String) -> Void = { Swift.print($0) },
                           error errorOutput: (String) -> Void = { printError($0) }) -> Int32 {
        guard let command = arguments.first else {
            errorOutput(usage)
            return 2
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "demo":
                let losses = try DemoCommand(arguments: rest).run(print: output)
                return (losses.last.map { $0.isFinite } ?? false) ? 0 : 1
            case "help", "--help", "-h":
                output(usage)
                return 0
            default:
                throw UsageError("unknown command '\(command)'")
            }
        } catch let help as HelpRequested {
            output(help.text)
            return 0
        } catch let usageError as UsageError {
            errorOutput("tessera: \(usageError.message)\n\n" + (command == "demo" ? DemoCommand.usage : usage))
            return 2
        } catch {
            errorOutput("tessera: \(error)")
            return 1
        }
    }

    public static func printError(_ text: String) {
        var stderr = StandardError()
        Swift.print(text, to: &stderr)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        #if canImport(Glibc)
        fputs(string, Glibc.stderr)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
