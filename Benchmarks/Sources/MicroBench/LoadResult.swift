/// What one load run measured; printed by `load` as one JSON line for the driver.
struct LoadResult: Codable, Sendable {
    var kind: String
    var concurrency: Int
    var payload: Int
    /// Calls completed inside the measurement window.
    var calls: Int
    /// Calls that failed inside the window.
    var errors: Int
    /// The window's length in seconds.
    var seconds: Double
    /// Latency percentiles in nanoseconds.
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
    /// CPU used during the window, as a fraction of one core.
    var clientCPU: Double
    var serverCPU: Double
    /// Resident memory at the end of the window, in bytes.
    var clientRSS: Int
    var serverRSS: Int
    /// The first error seen, if any.
    var firstError: String?
    /// Broker rows: the subscriber processes in the queue group (server CPU and RSS are
    /// their sum); `nil` for the RPC kinds.
    var members: Int? = nil

    var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }

    /// Whether `other` measured the same system, concurrency, payload and queue members.
    func matches(_ other: LoadResult) -> Bool {
        kind == other.kind && concurrency == other.concurrency && payload == other.payload && members == other.members
    }
}
