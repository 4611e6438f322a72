import Foundation
import NN
import Testing
import TensorCore
@testable import Datasets

@Suite("Time-series readers")
struct SeriesReaderTests {
    let ts = """
    # A comment line
    @problemName Tiny
    @univariate true
    @classLabel true 1 2 3
    @data
    1.0,2.0,3.0:2
    -1.5,0.5,4.25:1
    0,0,1:3

    """

    @Test func tsCasesBecomeChannelsAndClassIndices() throws {
        let series = try SeriesDatasets.decodeTS(Array(ts.utf8), path: "tiny.ts")
        #expect(series.classLabels == ["1", "2", "3"])
        #expect(series.dataset.inputs.shape == [3, 1, 3])
        #expect(series.dataset.inputs.scalars(as: Float.self) == [1, 2, 3, -1.5, 0.5, 4.25, 0, 0, 1])
        #expect(series.dataset.targets.scalars(as: Int64.self) == [1, 0, 2])
        // Two dimensions per case: `:`-separated.
        let two = try SeriesDatasets.decodeTS(Array("@classLabel true a b\n@data\n1,2:3,4:b\n5,6:7,8:a\n".utf8), path: "two.ts")
        #expect(two.dataset.inputs.shape == [2, 2, 2] && two.dataset.targets.scalars(as: Int64.self) == [1, 0])
    }

    @Test func badTSFilesNameTheLine() {
        let cases = [
            ("@classLabel true 1 2\n@data\n1,2,3:1\n1,2:2\n", "line 4"),         // unequal length
            ("@classLabel true 1 2\n@data\n1,?,3:1\n", "line 3"),                // missing value
            ("@classLabel true 1 2\n@data\n1,2,3:7\n", "line 3"),                // unknown label
            ("@data\n1,2,3:1\n", "@classLabel"),                                 // no labels declared
            ("@classLabel true 1 2\n@data\n", "no @data cases"),
        ]
        for (text, fragment) in cases {
            #expect(throws: DatasetError.self, "\(text)") { _ = try SeriesDatasets.decodeTS(Array(text.utf8), path: "bad.ts") }
            do { _ = try SeriesDatasets.decodeTS(Array(text.utf8), path: "bad.ts") } catch {
                #expect("\(error)".contains(fragment) && "\(error)".contains("bad.ts"), "\(error)")
            }
        }
    }

    @Test func csvRowsAreTimesAndVariates() throws {
        let table = try SeriesDatasets.decodeCSV(Array(",Quarter,A,B\n0,1970 Q1,1.5,-2\n1,1970 Q2,3,4e1\n".utf8), name: "x",
                                                 dropsFirstColumn: true, path: "x.csv")
        #expect(table.times == ["1970 Q1", "1970 Q2"] && table.variates == ["A", "B"])
        #expect(table.values == [[1.5, -2], [3, 40]])
        #expect(table.tensor().shape == [2, 2] && table.column(1) == [-2, 40])
        for (text, fragment) in [("Date,P\n1949-01,112\n1949-02,\n", "line 3"), ("Date,P\n1949-01,1,2\n", "line 2"), ("Date\n1,2\n", "header")] {
            do {
                _ = try SeriesDatasets.decodeCSV(Array(text.utf8), name: "x", path: "x.csv")
                Issue.record("\(text) should not parse")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
    }

    @Test func missingFilesNameTheFetchCommand() {
        let root = NSTemporaryDirectory() + "tessera-series-\(UInt64.random(in: 0..<UInt64.max))"
        #expect(throws: DatasetError.missingFile(path: root + "/airline/Airline.csv", fetchCommand: "Datasets/fetch airline")) {
            _ = try SeriesDatasets.airline(root: root)
        }
        #expect(throws: DatasetError.unknownDataset("CIFAR")) { _ = try SeriesDatasets.ucr("CIFAR", split: .train, root: root) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: DatasetLocation.defaultRoot() + "/airline/Airline.csv")
                   && FileManager.default.fileExists(atPath: DatasetLocation.defaultRoot() + "/ucr/GunPoint_TEST.ts")
                   && FileManager.default.fileExists(atPath: DatasetLocation.defaultRoot() + "/sunspots/sunspots.csv")
                   && FileManager.default.fileExists(atPath: DatasetLocation.defaultRoot() + "/uschange/Uschange.csv")))
    func fetchedSeriesHaveTheirKnownShapes() throws {
        let airline = try SeriesDatasets.airline()
        #expect(airline.times.first == "1949-01" && airline.times.last == "1960-12")
        #expect(airline.column(0).prefix(3) == [112, 118, 132] && airline.column(0).max() == 622)
        let sunspots = try SeriesDatasets.sunspots()
        #expect(sunspots.times.first == "1700" && sunspots.count == 309)
        let uschange = try SeriesDatasets.uschange()
        #expect(uschange.variates == ["Consumption", "Income", "Production", "Savings", "Unemployment"])
        let train = try SeriesDatasets.ucr("GunPoint", split: .train), test = try SeriesDatasets.ucr("GunPoint", split: .test)
        #expect(train.dataset.inputs.shape == [50, 1, 150] && test.dataset.inputs.shape == [150, 1, 150])
        #expect(train.classLabels == ["1", "2"])
        let italy = try SeriesDatasets.ucr("ItalyPowerDemand", split: .train)
        #expect(italy.dataset.inputs.shape == [67, 1, 24])
    }
}
