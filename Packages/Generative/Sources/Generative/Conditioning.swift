import TensorCore

/// Class conditions shared by the conditional models: labels checked against the model's
/// class count, then appended as one-hot features (dense inputs) or constant one-hot maps
/// (image inputs).
enum Conditioning {
    /// Checks `labels` for a model of `classCount` classes (nil: unconditional) fed `batch`
    /// examples; stops naming `model` and the values. Returns whether a condition applies.
    static func check(_ labels: Tensor?, classCount: Int?, batch: Int, model: String) -> Bool {
        guard let classes = classCount else {
            tensorCheck(labels == nil, "[\(model)] labels given to an unconditional model")
            return false
        }
        guard let labels else { tensorFailure("[\(model)] a conditional model (\(classes) classes) needs labels") }
        tensorCheck(labels.rank == 1 && labels.shape[0] == batch && !labels.dtype.isFloatingPoint,
                    "[\(model)] labels \(shapeText(labels.shape)) \(labels.dtype) should be [\(batch)] integers")
        if labels.elementCount > 0 {
            let (low, high) = (labels.min().item(as: Int64.self), labels.max().item(as: Int64.self))
            tensorCheck(low >= 0 && high < Int64(classes), "[\(model)] labels span \(low)...\(high), outside 0..<\(classes)")
        }
        return true
    }

    /// `features` `[N, F]` with the one-hot labels appended (`[N, F + classes]`), or unchanged
    /// for an unconditional model.
    static func appendingOneHot(_ features: Tensor, _ labels: Tensor?, classCount: Int?, model: String) -> Tensor {
        guard check(labels, classCount: classCount, batch: features.shape[0], model: model), let labels, let classCount else {
            return features
        }
        let oneHot = Tensor.oneHot(labels.cast(to: .int64), classCount: classCount, dtype: features.dtype).moved(to: features.device)
        return Tensor.concatenated([features, oneHot], axis: 1)
    }

    /// Images `[N, C, H, W]` with `classes` constant one-hot channels appended, or unchanged.
    static func appendingOneHotMaps(_ images: Tensor, _ labels: Tensor?, classCount: Int?, model: String) -> Tensor {
        guard check(labels, classCount: classCount, batch: images.shape[0], model: model), let labels, let classCount else {
            return images
        }
        let (n, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        let oneHot = Tensor.oneHot(labels.cast(to: .int64), classCount: classCount, dtype: images.dtype).moved(to: images.device)
        return Tensor.concatenated([images, oneHot.reshaped(to: [n, classCount, 1, 1]).expanded(to: [n, classCount, h, w])], axis: 1)
    }
}
