import Testing

@testable import Micro

@Suite struct StringDecimalTests {
    @Test("spells numbers as String(_:) does", arguments: [0, 1, 9, 10, 99, 100, 12_345, 1_000_000_007, UInt64(Int64.max), UInt64.max])
    func matchesTheStandardLibrary(value: UInt64) {
        #expect(String(decimal: value) == String(value))
    }

    @Test func randomValuesMatchTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let value = UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0...63, using: &generator)
            #expect(String(decimal: value) == String(value))
        }
    }
}
