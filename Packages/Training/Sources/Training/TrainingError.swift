/// Training stopped in a way the user can act on.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss (`figure`: `train_loss`, or an evaluation's `validation_loss`) became NaN or
    /// infinite at `step`.
    case nonFiniteLoss(step: Int, epoch: Int, value: Double, figure: String)
    /// An output file or folder could not be written.
    case cannotWrite(path: String, reason: String)
    /// A checkpoint to resume from does not fit this run.
    case cannotResume(path: String, reason: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, value, figure):
            return "\(figure == "train_loss" ? "loss" : figure) became \(value) at step \(step) (epoch \(epoch)); lower the learning rate, or find the operation with anomaly mode (Anomaly.detect { ... })"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .cannotResume(path, reason):
            return "cannot resume from \(path): \(reason)"
        }
    }
}
