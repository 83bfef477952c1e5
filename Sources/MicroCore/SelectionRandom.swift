import Synchronization

/// Random numbers for load balancing: a SplitMix64 sequence shared by every thread,
/// seeded once from the system generator.
///
/// `Int.random(in:)` asks the kernel for entropy (a `getrandom` system call) on every
/// draw, which costs more than the rest of a node pick. Spreading calls over nodes needs
/// no unpredictability, so one atomic add and a few multiplications per draw do.
enum SelectionRandom {
    private static let state = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    /// A number in `0..<upperBound`.
    ///
    /// - Precondition: `upperBound > 0`.
    static func next(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "SelectionRandom.next(below:) needs a positive bound")
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        // The high half of the 128-bit product maps the draw onto the range without a
        // division (Lemire's method; for a handful of nodes the bias is far below 2^-50).
        return Int(truncatingIfNeeded: z.multipliedFullWidth(by: UInt64(upperBound)).high)
    }
}
