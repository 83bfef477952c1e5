import MicroTesting
import Testing

@testable import TransportTCP

@Suite("TCPStreamTable")
struct TCPStreamTableTests {
    private let connection = TCPConnection(role: .client, address: "table-test", configuration: .init())

    private func stream(_ id: UInt32) -> TCPStream {
        TCPStream(id: id, connection: connection)
    }

    @Test("insert, look up, replace and remove")
    func basics() {
        var table = TCPStreamTable()
        #expect(table.isEmpty)
        #expect(table[1] == nil)
        #expect(table[0] == nil)
        let one = stream(1)
        table.insert(one, for: 1)
        #expect(table[1] === one)
        #expect(table.count == 1)
        let again = stream(1)
        table.insert(again, for: 1)
        #expect(table[1] === again)
        #expect(table.count == 1)
        #expect(table.remove(1) === again)
        #expect(table.remove(1) == nil)
        #expect(table.remove(0) == nil)
        #expect(table.isEmpty)
    }

    @Test("sequential ids grow the table and all stay reachable")
    func growth() {
        var table = TCPStreamTable()
        let streams = (1...5_000).map { stream(UInt32($0)) }
        for stream in streams { table.insert(stream, for: stream.id) }
        #expect(table.count == 5_000)
        for stream in streams { #expect(table[stream.id] === stream) }
        #expect(table[5_001] == nil)
        #expect(Set(table.values.map(\.id)) == Set(streams.map(\.id)))
        table.removeAll()
        #expect(table.isEmpty)
        #expect(table[1] == nil)
    }

    @Test("random inserts and removals agree with a Dictionary", arguments: [1, 2, 3, 4])
    func randomAgainstDictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var table = TCPStreamTable()
        var model: [UInt32: TCPStream] = [:]
        // Few distinct ids (so removals hit) and arbitrary ones (so probes collide and
        // wrap around the end of the slots).
        let pool = (0..<300).map { index in index < 150 ? UInt32(index + 1) : UInt32(truncatingIfNeeded: random.next()) | 1 }
        for step in 0..<20_000 {
            let id = pool[Int(random.next() % UInt64(pool.count))]
            if random.next() % 3 == 0 {
                #expect(table.remove(id) === model.removeValue(forKey: id), "step \(step): remove \(id)")
            } else {
                let new = stream(id)
                table.insert(new, for: id)
                model[id] = new
            }
            if step % 500 == 0 {
                for id in pool { #expect(table[id] === model[id], "step \(step): look up \(id)") }
            }
        }
        #expect(table.count == model.count)
        for id in pool { #expect(table[id] === model[id]) }
    }
}
