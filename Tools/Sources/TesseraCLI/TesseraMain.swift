/// The `tessera` command: dispatches to subcommands, maps errors to exit codes.
public enum TesseraMain {
    public static let usage = """
    usage: tessera <command> [options]

    commands:
      demo     fetch Fashion-MNIST if needed, train an MLP, print test accuracy, plot curves
      train    train a model: tessera train mlp|lenet|gpt|char-rnn|sentiment|vae|gan|dcgan|wgan-gp|ddpm|score|flow|gcn|gat|sage|gin|fcn|vit|detector|simclr ...
      eval     test metrics of a saved model: tessera eval --checkpoint runs/mlp-fashion-mnist/model.h5
      sample   continue text, or draw images: tessera sample gpt|char-rnn|vae|gan|dcgan|wgan-gp|ddpm|score|flow --checkpoint FILE
      inspect  print a checkpoint's tensors and metadata: tessera inspect FILE.h5
      convert  a model's weights between .h5 and .safetensors: tessera convert IN OUT
      attack   FGSM/PGD accuracy of LeNet: tessera attack --model lenet --dataset mnist
      curve    fit a small MLP to a synthetic curve with TensorCore alone
      course   numerical-methods and theory experiments: tessera course lstsq|elm|spectral|ntk|taylor|newton
      baseline classic baselines on MNIST: tessera baseline knn|svm|logistic
      forecast time-series forecasting: tessera forecast lstm|gru|rnn|itransformer --dataset airline|sunspots|uschange
      rl       reinforcement learning: tessera rl cartpole|mountaincar|acrobot|pendulum|gridworld|bandit --algorithm ppo|a2c
      launch   data-parallel training in N processes: tessera launch --nproc 2 -- train mlp
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
                try DemoCommand(arguments: rest).run(print: output)
                return 0
            case "attack":
                try AttackCommand(arguments: rest).run(print: output)
                return 0
            case "inspect":
                try InspectCommand(arguments: rest).run(print: output)
                return 0
            case "curve":
                let losses = try CurveCommand(arguments: rest).run(print: output)
                if let last = losses.last, !last.isFinite {
                    errorOutput("tessera: the loss became \(last) at step \(losses.count); lower --lr")
                    return 1
                }
                return 0
            case "train" where ["gpt", "char-rnn"].contains(rest.first ?? ""):
                try LanguageModelCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "vae":
                try GenerativeCommand(arguments: rest).run(print: output)
                return 0
            case "train" where ["gan", "dcgan", "wgan-gp"].contains(rest.first ?? ""):
                try GANCommand(arguments: rest).run(print: output)
                return 0
            case "train" where ["score", "flow"].contains(rest.first ?? ""):
                try ToyModelCommand(arguments: rest).run(print: output)
                return 0
            case "train" where GraphCommand.models.contains(rest.first ?? ""):
                try GraphCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "ddpm":
                try DiffusionCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "simclr":
                try SimCLRCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "detector":
                try DetectionCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "fcn":
                try SeriesClassifierCommand(arguments: rest).run(print: output)
                return 0
            case "train" where rest.first == "sentiment":
                try SentimentCommand(arguments: rest).run(print: output)
                return 0
            case "train":
                try TrainCommand(arguments: rest).run(print: output)
                return 0
            case "course":
                try CourseCommand(arguments: rest).run(print: output)
                return 0
            case "rl":
                try RLCommand(arguments: rest).run(print: output)
                return 0
            case "forecast":
                try ForecastCommand(arguments: rest).run(print: output)
                return 0
            case "baseline":
                try BaselineCommand(arguments: rest).run(print: output)
                return 0
            case "convert":
                try ConvertCommand(arguments: rest).run(print: output)
                return 0
            case "eval":
                try EvalCommand(arguments: rest).run(print: output)
                return 0
            case "sample" where ["vae", "gan", "dcgan", "wgan-gp", "ddpm", "score", "flow"].contains(rest.first ?? ""):
                try GenerativeSampleCommand(arguments: rest).run(print: output)
                return 0
            case "sample":
                try SampleCommand(arguments: rest).run(print: output)
                return 0
            case "launch":
                return try LaunchCommand(arguments: rest).run(print: output)
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
            let trainUsage = ["gpt": LanguageModelCommand.usage, "char-rnn": LanguageModelCommand.usage,
                              "sentiment": SentimentCommand.usage, "vae": GenerativeCommand.usage,
                              "gan": GANCommand.usage, "dcgan": GANCommand.usage, "wgan-gp": GANCommand.usage,
                              "ddpm": DiffusionCommand.usage, "score": ToyModelCommand.usage, "flow": ToyModelCommand.usage,
                              "gcn": GraphCommand.usage, "gat": GraphCommand.usage, "sage": GraphCommand.usage, "gin": GraphCommand.usage, "fcn": SeriesClassifierCommand.usage, "detector": DetectionCommand.usage, "simclr": SimCLRCommand.usage][rest.first ?? ""] ?? TrainCommand.usage
            let commandUsage = ["demo": DemoCommand.usage, "curve": CurveCommand.usage, "train": trainUsage,
                                "inspect": InspectCommand.usage, "attack": AttackCommand.usage,
                                "sample": ["vae", "gan", "dcgan", "wgan-gp", "ddpm", "score", "flow"].contains(rest.first ?? "") ? GenerativeSampleCommand.usage : SampleCommand.usage, "eval": EvalCommand.usage, "convert": ConvertCommand.usage,
                                "course": CourseCommand.usage, "rl": RLCommand.usage, "baseline": BaselineCommand.usage,
                                "forecast": ForecastCommand.usage,
                                "launch": LaunchCommand.usage][command] ?? usage
            errorOutput("tessera: \(usageError.message)\n\n" + commandUsage)
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
