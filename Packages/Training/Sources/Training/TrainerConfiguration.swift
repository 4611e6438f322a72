/// How a `Trainer` runs: the loop's knobs and where its outputs go. `Codable`, so a run's
/// configuration is recorded in its results and checkpoints.
public struct TrainerConfiguration: Codable, Equatable, Sendable {
    /// Passes over the training loader.
    public var epochs: Int
    /// Batches whose gradients are summed before one optimizer step (the loss is divided by
    /// this, so the step sees the mean over the larger batch).
    public var accumulationSteps: Int
    /// Rescale gradients to this total 2-norm before each step (none when nil).
    public var gradientClipNorm: Double?
    /// Whether the schedule steps after every optimizer step (true) or once per epoch.
    public var scheduleStepsPerBatch: Bool
    /// Where results.json, metrics.csv and curves.svg go (nothing written when nil).
    public var outputDirectory: String?
    /// Where checkpoints go (none when nil).
    public var checkpointDirectory: String?
    /// Save every this many epochs (and after the last); `checkpointEverySteps` adds saves within epochs.
    public var checkpointEveryEpochs: Int
    /// Also save every this many optimizer steps within epochs (none when nil).
    public var checkpointEverySteps: Int?
    /// Checkpoints kept (older ones are deleted).
    public var keepLastCheckpoints: Int
    /// Continue from the newest checkpoint in `checkpointDirectory`, bit-identically.
    public var resume: Bool
    /// Stop after this epoch even if `epochs` is larger (time-boxed jobs; resume later).
    public var stopAfterEpoch: Int?
    /// A progress bar with rate and ETA on standard error.
    public var showsProgress: Bool
    /// Stop after the optimizer step at which this many seconds of training have passed (the
    /// epoch or interval so far is then evaluated and recorded); none when nil.
    public var timeBudget: Double?

    /// A configuration; every knob has the default its property describes.
    public init(epochs: Int = 10, accumulationSteps: Int = 1, gradientClipNorm: Double? = nil,
                scheduleStepsPerBatch: Bool = true, outputDirectory: String? = nil, checkpointDirectory: String? = nil,
                checkpointEveryEpochs: Int = 1, checkpointEverySteps: Int? = nil, keepLastCheckpoints: Int = 3,
                resume: Bool = false, stopAfterEpoch: Int? = nil, showsProgress: Bool = true,
                timeBudget: Double? = nil) {
        self.epochs = epochs
        self.accumulationSteps = accumulationSteps
        self.gradientClipNorm = gradientClipNorm
        self.scheduleStepsPerBatch = scheduleStepsPerBatch
        self.outputDirectory = outputDirectory
        self.checkpointDirectory = checkpointDirectory
        self.checkpointEveryEpochs = checkpointEveryEpochs
        self.checkpointEverySteps = checkpointEverySteps
        self.keepLastCheckpoints = keepLastCheckpoints
        self.resume = resume
        self.stopAfterEpoch = stopAfterEpoch
        self.showsProgress = showsProgress
        self.timeBudget = timeBudget
    }
}
