import Foundation
import NN
import TensorCore

/// Which part of a dataset with an official split.
public enum Split: String, Sendable {
    /// The examples to train on.
    case train
    /// The held-out examples results are reported on.
    case test
}

/// Loaders for the image-classification sets that `Datasets/fetch` provides.
/// Images come as float32 `[N, pixels]` scaled to [0, 1]; labels as int64 `[N]`.
public enum ImageDatasets {
    /// Fashion-MNIST or MNIST (60,000 train / 10,000 test, 28×28).
    public static func mnistLike(_ name: String, split: Split, root: String = DatasetLocation.defaultRoot()) throws -> TensorDataset {
        let directory = "\(root)/\(name)"
        let prefix = split == .train ? "train" : "t10k"
        let gz = name == "fashion-mnist" ? ".gz" : ""
        guard name == "fashion-mnist" || name == "mnist" else { throw DatasetError.unknownDataset(name) }
        let imagesPath = "\(directory)/\(prefix)-images-idx3-ubyte\(gz)"
        let labelsPath = "\(directory)/\(prefix)-labels-idx1-ubyte\(gz)"
        let images = try IDX.read(imagesPath, dataset: name)
        let labels = try IDX.read(labelsPath, dataset: name)
        guard images.rank == 3, labels.rank == 1, images.shape[0] == labels.shape[0] else {
            throw DatasetError.corrupt(path: directory, reason: "images \(images.shape) and labels \(labels.shape) do not pair up")
        }
        // MNIST's files are uint8 throughout; a changed type byte (int8 labels of -16, float
        // pixels) is a damaged file, not a different dataset.
        guard images.dtype == .uint8 && labels.dtype == .uint8 else {
            throw DatasetError.corrupt(path: images.dtype == .uint8 ? labelsPath : imagesPath,
                                       reason: "element type \(images.dtype == .uint8 ? labels.dtype : images.dtype), expected unsigned bytes")
        }
        guard labels.elementCount == 0 || labels.max().item(as: UInt8.self) < 10 else {
            throw DatasetError.corrupt(path: labelsPath, reason: "labels outside 0...9")
        }
        let flat = images.reshaped(to: [images.shape[0], -1]).cast(to: .float32) / 255
        return TensorDataset(inputs: flat, targets: labels.cast(to: .int64))
    }

    /// A CSV of integer pixels followed by the label per line (mnist-5k: 784 + 1, digits: 64 + 1).
    public static func csvDigits(_ name: String, root: String = DatasetLocation.defaultRoot()) throws -> TensorDataset {
        let (file, features, scale): (String, Int, Double)
        switch name {
        case "mnist-5k": (file, features, scale) = ("mnist_5k.csv.gz", 784, 255)
        case "digits": (file, features, scale) = ("digits.csv.gz", 64, 16)
        default: throw DatasetError.unknownDataset(name)
        }
        let path = "\(root)/\(name)/\(file)"
        let raw = try readBytes(path, dataset: name)
        return try decodeCSVDigits(raw, features: features, scale: scale, path: path)
    }

    /// Parses a digits CSV already in memory (gzip or plain): each line `features` pixels in
    /// `0...scale` then a label in 0...9. Pixels come back divided by `scale`. Throws
    /// `DatasetError.corrupt` naming `path`, the line and the field for anything else.
    public static func decodeCSVDigits(_ raw: [UInt8], features: Int, scale: Double, path: String) throws -> TensorDataset {
        tensorCheck(features > 0 && scale > 0, "[decodeCSVDigits] features \(features) and scale \(scale) must be positive")
        let bytes = Gzip.isGzip(raw) ? try Gzip.decompress(raw, path: path) : raw
        var pixels: [Float] = [], labels: [Int64] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            lineNumber += 1
            let fields = line.split(separator: UInt8(ascii: ","))
            guard fields.count == features + 1 else {
                throw DatasetError.corrupt(path: path, reason: "line \(lineNumber) has \(fields.count) fields, expected \(features + 1)")
            }
            for (k, field) in fields.enumerated() {
                guard let value = Double(String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw DatasetError.corrupt(path: path, reason: "line \(lineNumber) field \(k + 1) is not a number")
                }
                // Values are validated, not only parsed: a label must be a class index (Int64(·)
                // of 1e300 traps; 4.7 would quietly become 4), a pixel finite and in range.
                if k < features {
                    guard value.isFinite, value >= 0, value <= scale else {
                        throw DatasetError.corrupt(path: path, reason: "line \(lineNumber) pixel \(k + 1) is \(value), outside 0...\(Int(scale))")
                    }
                    pixels.append(Float(value / scale))
                } else {
                    guard value.isFinite, value == value.rounded(), value >= 0, value <= 9 else {
                        throw DatasetError.corrupt(path: path, reason: "line \(lineNumber) label is \(value), not a class 0...9")
                    }
                    labels.append(Int64(value))
                }
            }
        }
        guard !labels.isEmpty else { throw DatasetError.corrupt(path: path, reason: "no rows") }
        return TensorDataset(inputs: Tensor(pixels, shape: [labels.count, features]), targets: Tensor(labels))
    }
}
