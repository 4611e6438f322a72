import Foundation
import NN
import Optim
import TensorCore
import Training

/// The forecasters `ForecastExperiment` trains.
public enum ForecastModelKind: String, CaseIterable, Codable, Sendable {
    /// `RecurrentForecaster` with an Elman RNN.
    case rnn
    /// `RecurrentForecaster` with a GRU.
    case gru
    /// `RecurrentForecaster` with an LSTM.
    case lstm
    /// `ITransformer`.
    case itransformer
}

/// The held-out forecast of a course's homework: the last `holdout` steps of a series are
/// hidden, a forecaster is trained on windows of the rest (values log-transformed when
/// asked and standardised with the training part's statistics), and its forecast from the
/// end of the training part is scored against the hidden steps beside the naive, seasonal
/// naive and drift forecasts from the same origin.
public enum ForecastExperiment {
    /// How the experiment runs; `Codable` for results.json.
    public struct Configuration: Codable, Equatable, Sendable {
        /// The forecaster.
        public var model: ForecastModelKind = .lstm
        /// Steps of history each window gives the model.
        public var inputLength: Int
        /// Steps the model predicts at once (the rest of the holdout recursively).
        public var horizon: Int
        /// Final steps held out for scoring.
        public var holdout: Int
        /// Steps before the holdout kept out of the training windows to choose the epoch: the
        /// model of the epoch whose forecast of them was best is the one kept (early stopping
        /// with the best weights restored). 0 keeps the last epoch's model.
        public var validation: Int
        /// The season's length in steps (12 for monthly data), for the seasonal naive forecast.
        public var period: Int
        /// Whether values are log-transformed before standardisation.
        public var logarithm: Bool
        /// Recurrent state width, or the iTransformer's token width.
        public var hiddenSize = 64
        /// Recurrent or encoder layers.
        public var layers = 1
        /// iTransformer heads.
        public var heads = 4
        /// Dropout (between recurrent layers, or in the encoder).
        public var dropout = 0.0
        /// Passes over the training windows.
        public var epochs = 200
        /// Windows per step.
        public var batchSize = 16
        /// AdamW's peak rate (cosine-annealed to 0 over the run).
        public var learningRate = 3e-3
        /// AdamW's decoupled weight decay.
        public var weightDecay = 1e-4
        /// Initialisation and shuffling seed.
        public var seed: UInt64 = 0

        /// A configuration of the required shapes with the remaining defaults.
        public init(model: ForecastModelKind = .lstm, inputLength: Int, horizon: Int, holdout: Int, validation: Int? = nil,
                    period: Int, logarithm: Bool) {
            self.model = model
            self.validation = validation ?? holdout
            self.inputLength = inputLength
            self.horizon = horizon
            self.holdout = holdout
            self.period = period
            self.logarithm = logarithm
        }
    }

    /// What a run produced.
    public struct Result {
        /// The trained model.
        public var model: Forecaster
        /// Its forecast of the held-out steps `[holdout, V]`, in the series' units.
        public var forecast: Tensor
        /// The held-out steps.
        public var actual: Tensor
        /// `naive`, `seasonal_naive` and `drift` forecasts from the same origin.
        public var baselines: [String: Tensor]
        /// Per-epoch `train_loss` (standardised units), `validation_mae`, `test_mae`, `test_rmse`
        /// (the test figures are recorded, never used to choose).
        public var history: TrainingHistory
        /// `mae`, `rmse`, `mape` of the model; `<baseline>_mae` etc. of each baseline;
        /// `best_epoch` and its `validation_mae` (with validation steps);
        /// `mae_ratio_to_seasonal_naive`; `beats_seasonal_naive` (1 or 0); `seconds`.
        public var final: [String: Double]
    }

    /// The model `configuration` names, for `variates`, initialised from `generator`.
    public static func makeModel(_ configuration: Configuration, variates: Int, generator: RandomGenerator? = nil) -> Forecaster {
        let c = configuration
        switch c.model {
        case .itransformer:
            return ITransformer(inputLength: c.inputLength, horizon: c.horizon, variates: variates, width: c.hiddenSize,
                                heads: c.heads, layers: c.layers, dropout: c.dropout, generator: generator)
        case .rnn, .gru, .lstm:
            return RecurrentForecaster(kind: RecurrentCellKind(rawValue: c.model.rawValue)!, inputLength: c.inputLength,
                                       horizon: c.horizon, variates: variates, hiddenSize: c.hiddenSize, layers: c.layers,
                                       dropout: c.dropout, generator: generator)
        }
    }

    /// Trains on `series` (`[T, V]`) less its last `holdout` steps and scores the forecast of
    /// those steps. Training windows end before the `validation` steps preceding the holdout;
    /// the epoch whose forecast of those steps has the lowest MAE gives the model kept. The
    /// series must leave at least one training window.
    public static func run(series: Tensor, configuration c: Configuration, log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        let table = (series.rank == 1 ? series.unsqueezed(axis: 1) : series).cast(to: .float32)
        tensorCheck(table.rank == 2, "[ForecastExperiment] series \(shapeText(series.shape)) should be [time, variates]")
        let length = table.shape[0], variates = table.shape[1], trainLength = length - c.holdout, fitLength = trainLength - c.validation
        tensorCheck(c.holdout > 0 && c.validation >= 0 && c.period > 0 && c.epochs > 0 && c.batchSize > 0,
                    "[ForecastExperiment] holdout \(c.holdout), period \(c.period), epochs \(c.epochs) and batch size \(c.batchSize) "
                    + "must be positive, validation \(c.validation) not negative")
        let windows = SlidingWindows.count(length: max(fitLength, 0), inputLength: c.inputLength, horizon: c.horizon)
        tensorCheck(windows > 0, "[ForecastExperiment] \(length) steps less a holdout of \(c.holdout) and \(c.validation) validation "
                    + "steps leave no training window of \(c.inputLength) inputs and \(c.horizon) targets")
        tensorCheck(trainLength >= c.period, "[ForecastExperiment] the training part (\(trainLength) steps) is shorter than one period (\(c.period))")
        let started = Date()
        let history = table.narrowed(axis: 0, start: 0, length: trainLength)
        let actual = table.narrowed(axis: 0, start: trainLength, length: c.holdout)
        // The scaler sees only what the windows train on.
        let scaler = SeriesScaler(fitting: history.narrowed(axis: 0, start: 0, length: fitLength), logarithm: c.logarithm)
        let scaledHistory = scaler.transform(history.cast(to: .float64)).cast(to: .float32)
        let fitPart = scaledHistory.narrowed(axis: 0, start: 0, length: fitLength)

        let generator = RandomGenerator(seed: c.seed)
        let model = makeModel(c, variates: variates, generator: generator)
        let data = SlidingWindows.dataset(fitPart, inputLength: c.inputLength, horizon: c.horizon)
        let loader = DataLoader(data, batchSize: c.batchSize, sampler: RandomSampler(seed: c.seed), prefetch: false)
        let optimizer = AdamW(parameters: model.parameters(), learningRate: c.learningRate, weightDecay: c.weightDecay)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: c.epochs * loader.batchCount),
                              loss: { meanSquaredError(predictions: $0, targets: $1) },
                              configuration: TrainerConfiguration(epochs: c.epochs, gradientClipNorm: 1, showsProgress: false))
        trainer.log = thinnedEpochLog(every: 10, epochs: c.epochs, log)
        func forecast(from known: Tensor, steps: Int) -> Tensor {
            scaler.inverse(model.forecast(known, steps: steps).cast(to: .float64)).cast(to: .float32)
        }
        var best: (epoch: Int, mae: Double, state: [String: Tensor])?
        try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0 - 1) }, step: { batch in
            TrainingStepOutput(loss: meanSquaredError(predictions: model(batch.input), targets: batch.target), count: batch.input.shape[0])
        }, evaluate: {
            let f = forecast(from: scaledHistory, steps: c.holdout)
            var figures = ["test_mae": ForecastMetrics.meanAbsoluteError(predicted: f, actual: actual),
                           "test_rmse": ForecastMetrics.rootMeanSquaredError(predicted: f, actual: actual)]
            if c.validation > 0 {
                let v = ForecastMetrics.meanAbsoluteError(predicted: forecast(from: fitPart, steps: c.validation),
                                                          actual: history.narrowed(axis: 0, start: fitLength, length: c.validation))
                figures["validation_mae"] = v
                if v < best?.mae ?? .infinity {
                    best = (trainer.epoch, v, model.stateDict().mapValues { $0.copied() })
                }
            }
            return figures
        })
        if let best { try model.loadStateDict(best.state) }

        let predicted = forecast(from: scaledHistory, steps: c.holdout)
        let baselines = ["naive": NaiveForecast.last(history, steps: c.holdout),
                         "seasonal_naive": NaiveForecast.seasonal(history, period: c.period, steps: c.holdout),
                         "drift": NaiveForecast.drift(history, steps: c.holdout)]
        var final = ForecastMetrics.all(predicted: predicted, actual: actual)
        for (name, forecast) in baselines {
            for (metric, value) in ForecastMetrics.all(predicted: forecast, actual: actual) { final["\(name)_\(metric)"] = value }
        }
        final["mae_ratio_to_seasonal_naive"] = final["mae"]! / final["seasonal_naive_mae"]!
        final["beats_seasonal_naive"] = final["mae"]! < final["seasonal_naive_mae"]! ? 1 : 0
        final["train_loss"] = trainer.history.epochs.last?["train_loss"]
        if let best {
            final["best_epoch"] = Double(best.epoch)
            final["validation_mae"] = best.mae
        }
        final["training_windows"] = Double(data.count)
        final["parameters"] = Double(model.parameterCount)
        final["seconds"] = Date().timeIntervalSince(started)
        return Result(model: model, forecast: predicted, actual: actual, baselines: baselines, history: trainer.history, final: final)
    }
}
