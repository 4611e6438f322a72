import Datasets
import Foundation
import SequenceModels
import TensorCore

// The dataset readers: IDX, the digits CSV, the sentiment CSV, plain text, and the time series
// (a series CSV and the UCR archive's .ts).

extension FuzzTargets {
    /// IDX, raw or gzip. An accepted unsigned-byte tensor must survive `IDX.encode` unchanged.
    static let idx = FuzzTarget(name: "IDX", summary: "IDX images and labels, raw and gzip (Datasets.IDX.parse)",
                                structure: .gzip, seeds: {
        let images = Tensor((0..<2 * 3 * 3).map { UInt8($0 * 13 % 256) }, shape: [2, 3, 3])
        let labels = Tensor([UInt8(7), 0, 9], shape: [3])
        let scalar = Tensor([UInt8(42)], shape: [])
        let plain = [images, labels, scalar].map(IDX.encode)
        return plain + plain.prefix(2).map { Gzip.compress($0) }
    }, body: { input in
        let t = try IDX.parse(input, path: "fuzz.idx")
        fuzzCheck(t.elementCount <= input.count * 64, "\(t.elementCount) elements from \(input.count) bytes")
        if t.dtype == .uint8 {
            let again = try IDX.parse(IDX.encode(t), path: "round-trip")
            fuzzCheck(again.shape == t.shape && again.scalars(as: UInt8.self) == t.scalars(as: UInt8.self),
                      "IDX \(t.shape) changed through encode")
        }
    })

    /// The digits CSV (four pixels in 0...16 and a label per line here; the reader's `features`
    /// and `scale` are parameters): what it accepts is in range.
    static let digitsCSV = FuzzTarget(name: "DigitsCSV", summary: "digits CSV, gzip or plain (ImageDatasets.decodeCSVDigits)",
                                      structure: .gzip, seeds: {
        let text = Array("0,16,3,8,7\n12,0,0,1,0\n 4 , 5 ,6,16,9\n".utf8)
        return [text, Gzip.compress(text), Array("1.0,2e0,0,16,3\r\n".utf8)]
    }, body: { input in
        let set = try ImageDatasets.decodeCSVDigits(input, features: 4, scale: 16, path: "fuzz.csv")
        let pixels = set.inputs.scalars(as: Float.self), labels = set.targets.scalars(as: Int64.self)
        fuzzCheck(set.inputs.shape == [labels.count, 4], "inputs \(set.inputs.shape) for \(labels.count) labels")
        fuzzCheck(pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "a pixel outside [0, 1]")
        fuzzCheck(labels.allSatisfy { (0...9).contains($0) }, "a label outside 0...9")
    })

    /// The Pang & Lee sentiment CSV: labels 0 or 1, texts trimmed.
    static let sentimentCSV = FuzzTarget(name: "SentimentCSV", summary: "sentiment CSV (TextDatasets.decodeSentiment)",
                                         structure: .plain, seeds: {
        ["\u{FEFF}1,a fine film\n-1,\"dull, \"\"slow\"\"\nand long\"\n",
         "1, ok \r\n-1,bad\r\n\n", "-1,\"café — naïve\"\n"].map { Array($0.utf8) }
    }, body: { input in
        let records = try TextDatasets.decodeSentiment(input, path: "fuzz.csv")
        fuzzCheck(!records.isEmpty, "no records accepted")
        fuzzCheck(records.allSatisfy { $0.label == 0 || $0.label == 1 }, "a label other than 0 or 1")
    })

    /// Plain text (the Shakespeare reader's decoding), then a character vocabulary built from it:
    /// every id in range and decode(encode(text)) the same text.
    static let text = FuzzTarget(name: "Text", summary: "UTF-8 text and its character vocabulary (TextDatasets.decodeText, CharacterTokenizer)",
                                 structure: .plain, seeds: {
        ["First Citizen:\r\nBefore we proceed any further, hear me speak.\r\n",
         "ROMEO:\nBut, soft! what light through yonder window breaks?\n",
         "e\u{301} é 🇫🇷 \u{0}\t—\n"].map { Array($0.utf8) }
    }, body: { input in
        let text = try TextDatasets.decodeText(input, path: "fuzz.txt")
        fuzzCheck(!text.contains("\r\n"), "a \\r\\n left in the text")
        let tokenizer = CharacterTokenizer(text: text)
        let ids = try tokenizer.encode(text)
        fuzzCheck(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize }, "an id outside the vocabulary")
        fuzzCheck(try tokenizer.decode(ids) == text, "decode(encode(text)) differs from the text")
    })

    /// A series CSV (header, then a time label and one number per variate per line, after a
    /// row number when the header starts with an empty name): every
    /// accepted row has one finite value per variate.
    static let seriesCSV = FuzzTarget(name: "SeriesCSV", summary: "time-series CSV (SeriesDatasets.decodeCSV)",
                                      structure: .plain, seeds: {
        ["Date,Passengers\n1949-01,112\n1949-02,118\n", ",Quarter,A,B\n0,1970 Q1,0.6,-2.4\n1,1970 Q2,4e-1,7\r\n",
         "\"YEAR\",\"SUNACTIVITY\"\n1700,5\n1701,11.5\n"].map { Array($0.utf8) }
    }, body: { input in
        // A header that starts with an empty name has a row-number column (uschange's layout).
        let table = try SeriesDatasets.decodeCSV(input, name: "fuzz", dropsFirstColumn: input.first == UInt8(ascii: ","), path: "fuzz.csv")
        fuzzCheck(table.count > 0 && table.times.count == table.values.count, "\(table.times.count) times for \(table.values.count) rows")
        fuzzCheck(table.values.allSatisfy { $0.count == table.variates.count && $0.allSatisfy(\.isFinite) },
                  "a row without one finite value per variate")
    })

    /// The UCR archive's .ts format: cases of equal length and dimension count, class indices
    /// within the declared labels.
    static let ucrSeries = FuzzTarget(name: "UCRSeries", summary: "UCR/UEA .ts series (SeriesDatasets.decodeTS)",
                                      structure: .plain, seeds: {
        ["#GunPoint-like\n@problemName P\n@classLabel true 1 2\n@data\n1.5,-2,3:1\n0,0,1e-3:2\n",
         "@classLabel true a b c\n@data\n1,2:3,4:c\n5,6:7,8:a\n"].map { Array($0.utf8) }
    }, body: { input in
        let series = try SeriesDatasets.decodeTS(input, path: "fuzz.ts")
        let shape = series.dataset.inputs.shape, targets = series.dataset.targets.scalars(as: Int64.self)
        fuzzCheck(shape.count == 3 && shape[0] == targets.count && shape[2] > 0, "inputs \(shape) for \(targets.count) targets")
        fuzzCheck(targets.allSatisfy { $0 >= 0 && $0 < series.classLabels.count }, "a target outside \(series.classLabels)")
        fuzzCheck(series.dataset.inputs.scalars(as: Float.self).allSatisfy(\.isFinite), "a value that is not finite")
    })
}
