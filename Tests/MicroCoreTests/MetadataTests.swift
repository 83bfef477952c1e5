import MicroCore
import Testing

@Suite struct MetadataTests {
    @Test func lookupIgnoresCase() {
        let metadata: Metadata = ["Micro-Id": "1", "Content-Type": "application/json"]
        #expect(metadata["micro-id"] == "1")
        #expect(metadata["CONTENT-TYPE"] == "application/json")
        #expect(metadata["Micro-Ids"] == nil)
        #expect(metadata["Micro_Id"] == nil)
    }

    @Test func setReplacesEveryValueOfTheName() {
        var metadata = Metadata()
        metadata.append("X-A", "1")
        metadata.append("Other", "o")
        metadata.append("x-a", "2")
        metadata["X-a"] = "3"
        #expect(metadata.count == 2)
        #expect(metadata["x-a"] == "3")
        #expect(metadata.map(\.name) == ["X-A", "Other"])
        metadata["X-A"] = nil
        #expect(metadata.count == 1)
        #expect(metadata["x-a"] == nil)
    }

    @Test func mergeReplacesAndKeepsOrder() {
        var metadata: Metadata = ["A": "1", "B": "2"]
        metadata.merge(["b": "3", "C": "4"])
        #expect(metadata.map(\.value) == ["1", "3", "4"])
    }
}
