@testable import CodecJSON
import Foundation
import NIOCore
import Testing

/// Our coder against Foundation's: each reads what the other writes.
@Suite struct FoundationCrossCheckTests {
    /// `value` through four paths: ours → ours, ours → Foundation, Foundation → ours.
    func crossCheck<Value: Codable & Equatable>(_ value: Value, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = try JSONValueEncoder.encode(value)
        let foundationReadsOurs = try JSONDecoder().decode(Value.self, from: Data(ours.readableBytesView))
        #expect(foundationReadsOurs == value, "Foundation read \(String(buffer: ours))", sourceLocation: sourceLocation)
        let weReadOurs = try JSONValueDecoder.decode(Value.self, from: ours)
        #expect(weReadOurs == value, "we read \(String(buffer: ours))", sourceLocation: sourceLocation)
        let theirs = try JSONEncoder().encode(value)
        let weReadTheirs = try JSONValueDecoder.decode(Value.self, from: ByteBuffer(bytes: theirs))
        #expect(weReadTheirs == value, "we read \(String(decoding: theirs, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func everything() throws { try crossCheck(Everything()) }
    @Test func integersAtTheirExtremes() throws { try crossCheck(Integers()) }
    @Test func strings() throws { try crossCheck(Strings()) }
    @Test func nestedAndOptional() throws {
        try crossCheck(Address(street: "s", city: "c", zip: nil))
        try crossCheck([Address(street: "s", city: "c", zip: "z")])
        try crossCheck([["a": [1, nil]], [:]] as [[String: [Int?]]])
        try crossCheck([1: ["t": true], -1: [:]] as [Int: [String: Bool]])
        try crossCheck([String?]([nil, "x"]))
        try crossCheck([Color.red, .blue])
        try crossCheck([Priority.low: "low"] as [Priority: String])
    }

    @Test func enumsAndClasses() throws {
        try crossCheck([Shape.circle(radius: 1), .rectangle(width: 0.5, height: -2), .point, .labeled("", 0)])
        try crossCheck(Dog(name: "Rex", breed: "Collie"))
        try crossCheck([Animal(name: "a", legs: 2)])
    }

    @Test func floatingPoint() throws {
        try crossCheck(Floats())
        for value in Floats().doubles + [-Double.leastNonzeroMagnitude, Double.leastNormalMagnitude / 3] {
            let decoded = try JSONValueDecoder.decode(Double.self, from: JSONValueEncoder.encode(value))
            #expect(decoded == value && decoded.sign == value.sign, "\(value)")
            let fromFoundation = try JSONValueDecoder.decode(Double.self, from: ByteBuffer(bytes: JSONEncoder().encode(value)))
            #expect(fromFoundation == value && fromFoundation.sign == value.sign, "\(value)")
        }
        for value in Floats().floats {
            let decoded = try JSONValueDecoder.decode(Float.self, from: JSONValueEncoder.encode(value))
            #expect(decoded == value && decoded.sign == value.sign, "\(value)")
        }
    }

    @Test func foundationTypes() throws {
        try crossCheck(Date(timeIntervalSinceReferenceDate: -1_234.5678))
        try crossCheck(Date.distantFuture)
        try crossCheck(Data((0...255).map { UInt8($0) }))
        try crossCheck(URL(string: "file:///tmp/a%20b")!)
        try crossCheck([Decimal(string: "0")!, Decimal(string: "-1.25")!, Decimal(string: "3.14159265358979323846")!, Decimal(string: "1e30")!])
    }

    @Test func topLevelFragments() throws {
        try crossCheck("fragment \"quoted\"")
        try crossCheck(42)
        try crossCheck(false)
        try crossCheck(Int?.none)
        try crossCheck(-0.5)
    }

    @Test func sameBytesAsFoundationWithSortedKeysAndNoSlashes() throws {
        // Foundation writes keys in hash order unless asked to sort them, and `/` as `\/`;
        // with keys declared in sorted order and no slashes, our output is the same.
        struct Inner: Codable { var x = true, y: String? = "z" }
        struct Plain: Codable { var a = 1, b = "x\ny\"é😀\u{1}", c = [1.5, 3.0, -0.0, 1e-7], d: Int? = nil, e = Inner(), f = [Inner()] }
        let foundation = JSONEncoder()
        foundation.outputFormatting = .sortedKeys
        func theirs<Value: Encodable>(_ value: Value) throws -> String {
            String(decoding: try foundation.encode(value), as: UTF8.self)
        }
        #expect(try ourJSON(Plain()) == theirs(Plain()))
        #expect(try ourJSON([Int64.min, Int64.max, 0, -1]) == theirs([Int64.min, Int64.max, 0, -1]))
        #expect(try ourJSON([UInt64.max]) == theirs([UInt64.max]))
        #expect(try ourJSON([Int128.min, Int128.max]) == theirs([Int128.min, Int128.max]))
        #expect(try ourJSON([UInt128.max]) == theirs([UInt128.max]))
        #expect(try ourJSON(Floats().doubles) == theirs(Floats().doubles))
        #expect(try ourJSON(Floats().floats) == theirs(Floats().floats))
        #expect(try ourJSON(Strings().controls) == theirs(Strings().controls))
        #expect(try ourJSON(Strings().nonASCII) == theirs(Strings().nonASCII))
        #expect(try ourJSON(Decimal(string: "-12.5")!) == theirs(Decimal(string: "-12.5")!))
        #expect(try ourJSON(Data([1, 2, 3, 250])) == theirs(Data([1, 2, 3, 250])))
    }

    @Test func escapedSurrogatePairsInInput() throws {
        let json = #"{"street":"\ud83d\ude00\u00e9","city":"\uD834\uDD1E","zip":null}"#
        let ours = try ourDecode(Address.self, json)
        #expect(ours == (try JSONDecoder().decode(Address.self, from: Data(json.utf8))))
        #expect(ours.street == "😀é" && ours.city == "𝄞")
    }
}
