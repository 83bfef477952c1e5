#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long to wait before a retry: go-micro's `⌊attempt^e⌋ × 100 ms`, capped at two
/// minutes. Attempt 1 (the first retry) waits 100 ms, attempt 2 600 ms.
public struct Backoff: Sendable, Hashable {
    /// The unit multiplied by `⌊attempt^e⌋`.
    public var unit: Duration
    /// The longest wait.
    public var maximum: Duration

    /// Creates a backoff; the defaults are go-micro's.
    public init(unit: Duration = .milliseconds(100), maximum: Duration = .seconds(120)) {
        self.unit = unit
        self.maximum = maximum
    }

    /// The wait before `attempt` (0 is the first try and waits nothing).
    public func delay(forAttempt attempt: Int) -> Duration {
        guard attempt > 0 else { return .zero }
        let factor = pow(Double(attempt), M_E).rounded(.down)
        let delay = unit * factor
        return min(delay, maximum)
    }
}
