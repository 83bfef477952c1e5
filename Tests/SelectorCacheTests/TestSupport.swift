import Logging
import MicroCore
import MicroMemory
import MicroTesting

extension CountingRegistry {
    /// Counts the requests to a fresh `MemoryRegistry`.
    convenience init() {
        self.init(MemoryRegistry())
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
