/// What a `Trainer` needs from data-parallel training, whatever carries it: one process per
/// rank, each training the same model on its own shard of every batch (DistributedTraining's
/// `DistributedDataParallel` over MPI). Training knows only this protocol, so it builds and
/// runs without an MPI library.
///
/// With a distribution the trainer skips gradient synchronisation inside an accumulation
/// window, waits for it before clipping and stepping, sums the epoch's figures over the ranks
/// (the record and `results.json` hold the whole world's figures), and leaves the log, the
/// progress bar, checkpoints and results to rank 0.
public protocol TrainingDistribution: AnyObject {
    /// This process's rank, from 0.
    var rank: Int { get }
    /// The number of ranks.
    var worldSize: Int { get }
    /// Whether the next backward pass averages gradients across ranks (the trainer sets false
    /// for the backward passes of an accumulation window but its last, as PyTorch's `no_sync`).
    var synchronizesGradients: Bool { get set }
    /// Before a batch's forward pass (DistributedDataParallel sends rank 0's buffers, such as
    /// BatchNorm's running statistics, to every rank).
    func prepareForward() throws
    /// After the backward pass of an accumulation window's last batch: returns when every
    /// parameter's `grad` holds the average over the ranks.
    func finishGradientSynchronization() throws
    /// Element-wise sums of `values` over the ranks (every rank passes as many, in the same
    /// order, and gets the totals).
    func sumAcrossRanks(_ values: [Double]) throws -> [Double]
}

extension TrainingDistribution {
    /// Whether this process writes logs, checkpoints and results (rank 0).
    public var isMainProcess: Bool { rank == 0 }
}

/// An optimizer whose state is split across the ranks (ZeRO stage 1): before rank 0 writes a
/// checkpoint, every rank calls `consolidateState(onto: 0)` (a collective), after which rank
/// 0's `stateDict()` holds the whole state, as PyTorch's `consolidate_state_dict`. Loading a
/// whole state dict on any number of ranks keeps each rank's share.
public protocol ShardedOptimizerState: AnyObject {
    /// Gathers every rank's share of the state onto `rank` (every rank calls it).
    func consolidateState(onto rank: Int) throws
}
