@testable import CodecJSON
import Foundation
import MicroTesting
import NIOCore
import Testing

/// Random mutations of valid documents: the decoder must reject or decode them, never
/// crash, and never accept what Foundation's strict-enough parser rejects.
@Suite struct JSONFuzzTests {
    static let seeds: [[UInt8]] = {
        var seeds = [
            #"{"name":"Ada","count":1,"tags":["a","b\n\u00e9"],"nested":{"x":[1.5e3,-0,true,false,null]}}"#,
            #"[{"a":{}},[],[[]],"\ud83d\ude00",12345678901234567890,-1.25E-7]"#,
            "\"plain ascii string long enough for the eight byte scan é 日本 😀\"",
        ].map { Array($0.utf8) }
        seeds.append(Array(String(buffer: try! JSONValueEncoder.encode(Everything())).utf8))
        return seeds
    }()

    /// Bytes that make interesting mutations.
    static let alphabet: [UInt8] = Array(#"{}[]:,"\/ 0123456789.eE+-tfnulrsaxu"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]

    func mutate(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] = JSONFuzzTests.alphabet.randomElement(using: &random)!
            case 1: bytes.insert(JSONFuzzTests.alphabet.randomElement(using: &random)!, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &random))
                bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &random))
            default: bytes.removeLast(min(bytes.count, Int.random(in: 0...3, using: &random)))
            }
        }
        return bytes
    }

    @Test func randomMutationsNeverCrash() throws {
        var random = SplitMix64(seed: 0x5EED)
        var accepted = 0
        for round in 0..<4000 {
            let seed = JSONFuzzTests.seeds[round % JSONFuzzTests.seeds.count]
            let bytes = mutate(seed, using: &random)
            let ours = try? ourDecode(JSONValue.self, bytes: bytes)
            _ = try? ourDecode(Everything.self, bytes: bytes)
            _ = try? ourDecode([String: [Int]].self, bytes: bytes)
            if ours != nil {
                accepted += 1
                // Foundation also rejects numbers that underflow to zero (`1e-400`); we read
                // them as 0, as JavaScript and Go do.
                let hasNegativeExponent = zip(bytes, bytes.dropFirst()).contains { ($0 | 0x20) == UInt8(ascii: "e") && $1 == UInt8(ascii: "-") }
                if !hasNegativeExponent {
                    let foundation = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
                    #expect(foundation != nil, "we accepted what Foundation rejects: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
                }
            }
        }
        // Some mutations stay valid JSON; most do not.
        #expect(accepted > 100 && accepted < 3000)
    }
}
