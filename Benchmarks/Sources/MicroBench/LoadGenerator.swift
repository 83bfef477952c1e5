import Histogram

/// Closed-loop load: `concurrency` workers each make one call at a time, back to back,
/// for a warm-up and then a measurement window.
///
/// A call counts when it completes inside the window; its latency goes into the worker's
/// HdrHistogram (nanoseconds, three significant digits). CPU of this process and of the
/// server (the sum over the server processes, for a broker's queue members) is sampled at
/// the window's start and end from `/proc`.
struct LoadGenerator: Sendable {
    var concurrency: Int
    var warmup: Duration
    var window: Duration
    var serverPIDs: [Int32]

    /// Runs `call` (given the worker index) in every worker and measures.
    func run(
        kind: String, payload: Int, _ call: @escaping @Sendable (Int) async throws -> Void
    ) async -> LoadResult {
        let clock = ContinuousClock()
        let windowStart = clock.now + warmup
        let windowEnd = windowStart + window
        let selfPID = getpid()

        struct WorkerResult: Sendable {
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var calls = 0
            var errors = 0
            var firstError: String?
        }

        let serverPIDs = self.serverPIDs
        // The servers' CPU and RSS summed; `nil` when one of them is gone.
        @Sendable func servers() -> ProcessStats? {
            var total = ProcessStats(cpuSeconds: 0, rssBytes: 0)
            for pid in serverPIDs {
                guard let stats = ProcessStats.read(pid: pid) else { return nil }
                total.cpuSeconds += stats.cpuSeconds
                total.rssBytes += stats.rssBytes
            }
            return serverPIDs.isEmpty ? nil : total
        }
        let sampler = Task { () -> (ProcessStats?, ProcessStats?, ProcessStats?, ProcessStats?) in
            try? await Task.sleep(until: windowStart, clock: .continuous)
            let (client0, server0) = (ProcessStats.read(pid: selfPID), servers())
            try? await Task.sleep(until: windowEnd, clock: .continuous)
            let (client1, server1) = (ProcessStats.read(pid: selfPID), servers())
            return (client0, server0, client1, server1)
        }

        let results = await withTaskGroup(of: WorkerResult.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var result = WorkerResult()
                    while true {
                        let start = clock.now
                        if start >= windowEnd { break }
                        var failure: String?
                        do {
                            try await call(worker)
                        } catch {
                            failure = "\(error)"
                        }
                        let end = clock.now
                        guard end >= windowStart, end < windowEnd else {
                            // Back off after a failure outside the window too, so a dead
                            // server does not spin the loop.
                            if failure != nil { try? await Task.sleep(for: .milliseconds(10)) }
                            continue
                        }
                        if let failure {
                            result.errors += 1
                            result.firstError = result.firstError ?? failure
                            try? await Task.sleep(for: .milliseconds(10))
                            continue
                        }
                        result.calls += 1
                        let elapsed = (end - start).components
                        let nanoseconds = UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
                        _ = result.histogram.record(max(1, nanoseconds))
                    }
                    return result
                }
            }
            var total = WorkerResult()
            for await result in group {
                total.histogram.add(result.histogram)
                total.calls += result.calls
                total.errors += result.errors
                total.firstError = total.firstError ?? result.firstError
            }
            return total
        }
        let (client0, server0, client1, server1) = await sampler.value
        let seconds = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        func cpu(_ before: ProcessStats?, _ after: ProcessStats?) -> Double {
            guard let before, let after else { return 0 }
            return (after.cpuSeconds - before.cpuSeconds) / seconds
        }
        return LoadResult(
            kind: kind, concurrency: concurrency, payload: payload,
            calls: results.calls, errors: results.errors, seconds: seconds,
            p50: results.histogram.valueAtPercentile(50), p99: results.histogram.valueAtPercentile(99),
            p999: results.histogram.valueAtPercentile(99.9),
            clientCPU: cpu(client0, client1), serverCPU: cpu(server0, server1),
            clientRSS: client1?.rssBytes ?? 0, serverRSS: server1?.rssBytes ?? 0,
            firstError: results.firstError
        )
    }
}

#if canImport(Glibc)
import Glibc
#endif
