/// The open streams of a connection by stream id: a hash table with open addressing.
///
/// A `Dictionary` hashes every key with SipHash, which costs more than the rest of a
/// lookup; every call looks its stream up several times (open, each frame, release). Stream
/// ids are never 0 (the frame format reserves it), so 0 marks a free slot, and Fibonacci
/// hashing of the id spreads both a client's sequential ids and a peer's arbitrary ones.
/// Slots are probed linearly; removal shifts the following entries back, so there are no
/// tombstones. The table doubles when it is half full and never shrinks.
struct TCPStreamTable {
    private var ids: [UInt32]
    private var streams: [TCPStream?]
    /// `64 - log2(capacity)`: the shift that turns the product into a slot index.
    private var shift: UInt64
    /// The number of streams.
    private(set) var count = 0

    /// Creates an empty table with room for `capacity` streams before it grows.
    init(capacity: Int = 8) {
        var slots = 16
        while slots < 2 * capacity { slots *= 2 }
        ids = Array(repeating: 0, count: slots)
        streams = Array(repeating: nil, count: slots)
        shift = UInt64(64 - slots.trailingZeroBitCount)
    }

    /// Whether the table holds no stream.
    var isEmpty: Bool { count == 0 }

    /// Every stream, in no particular order.
    var values: [TCPStream] { streams.compactMap { $0 } }

    /// The stream with id `id`, if any.
    subscript(id: UInt32) -> TCPStream? {
        guard id != 0 else { return nil }
        var slot = home(id)
        while true {
            let found = ids[slot]
            if found == id { return streams[slot] }
            if found == 0 { return nil }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `stream` under `id`, replacing a stream already there.
    ///
    /// - Precondition: `id` is not 0.
    mutating func insert(_ stream: TCPStream, for id: UInt32) {
        precondition(id != 0, "stream id 0 is reserved")
        if 2 * (count + 1) > ids.count { grow() }
        var slot = home(id)
        while ids[slot] != 0, ids[slot] != id { slot = (slot + 1) & mask }
        if ids[slot] == 0 { count += 1 }
        ids[slot] = id
        streams[slot] = stream
    }

    /// Removes and returns the stream with id `id`, if any.
    @discardableResult
    mutating func remove(_ id: UInt32) -> TCPStream? {
        guard id != 0 else { return nil }
        var slot = home(id)
        while ids[slot] != id {
            if ids[slot] == 0 { return nil }
            slot = (slot + 1) & mask
        }
        let removed = streams[slot]
        // Backward shift: move each following entry of the run into the hole when its home
        // slot does not lie (cyclically) after the hole, so every lookup still finds it.
        var hole = slot
        var next = (slot + 1) & mask
        while ids[next] != 0 {
            let wanted = home(ids[next])
            if (next - wanted) & mask >= (next - hole) & mask {
                ids[hole] = ids[next]
                streams[hole] = streams[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        ids[hole] = 0
        streams[hole] = nil
        count -= 1
        return removed
    }

    /// Removes every stream.
    mutating func removeAll() {
        self = TCPStreamTable()
    }

    private var mask: Int { ids.count - 1 }

    /// The slot where the probe for `id` starts.
    @inline(__always)
    private func home(_ id: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(id) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private mutating func grow() {
        var larger = TCPStreamTable(capacity: ids.count)
        for slot in ids.indices where ids[slot] != 0 {
            larger.insert(streams[slot]!, for: ids[slot])
        }
        self = larger
    }
}
