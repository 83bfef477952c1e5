import Foundation

/// The markdown report: machine, settings, one row per system, concurrency and payload
/// with ratios to the raw echo, the targets, and the idle-connection memory.
///
/// With several rounds, each row shows the median of its rounds, and each ratio is the
/// median of the ratios within a round (a row against the raw echo of the same round), so
/// that the machine getting slower or faster between rounds cancels out.
struct Report {
    var rounds: [[LoadResult]]
    var idle: IdleMemory?
    var warmup: Double
    var duration: Double
    var note: String?

    /// One row: a system at one concurrency and payload, over the rounds.
    struct Row {
        var kind: String
        var concurrency: Int
        var payload: Int
        /// Broker rows: the subscriber processes in the queue group.
        var members: Int?
        /// Its result in each round it ran in, with the raw echo's of that round.
        var samples: [Sample]

        /// One round of a row.
        struct Sample {
            var round: Int
            var result: LoadResult
            var raw: LoadResult?
        }

        func median(_ value: (LoadResult) -> Double) -> Double {
            Report.median(samples.map { value($0.result) })
        }

        /// The median over rounds of `value` divided by the raw echo's in the same round.
        func ratio(_ value: (LoadResult) -> Double) -> Double? {
            let ratios = ratios(value)
            return ratios.isEmpty ? nil : Report.median(ratios)
        }

        /// The lowest and highest calls/s ratio of the rounds.
        var ratioRange: (Double, Double)? {
            let ratios = ratios(\.callsPerSecond)
            guard let low = ratios.min(), let high = ratios.max() else { return nil }
            return (low, high)
        }

        /// `value` divided by the raw echo's in the same round, for each round that has both.
        private func ratios(_ value: (LoadResult) -> Double) -> [Double] {
            samples.compactMap { sample -> Double? in
                guard let raw = sample.raw, value(raw) > 0 else { return nil }
                return value(sample.result) / value(raw)
            }
        }
    }

    /// The rows, in the order of the first round.
    var rows: [Row] {
        guard let first = rounds.first else { return [] }
        return first.map { result in
            let samples = rounds.indices.compactMap { index -> Row.Sample? in
                let round = rounds[index]
                guard let same = round.first(where: { $0.matches(result) }) else { return nil }
                let raw = round.first { $0.kind == BenchKind.raw.rawValue && $0.concurrency == result.concurrency && $0.payload == result.payload }
                return Row.Sample(round: index, result: same, raw: raw)
            }
            return Row(
                kind: result.kind, concurrency: result.concurrency, payload: result.payload, members: result.members,
                samples: samples
            )
        }
    }

    var markdown: String {
        var lines: [String] = []
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: .init(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        lines.append("## swift-micro benchmark, \(date)")
        lines.append("")
        var settings = "Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(Report.cpuModel); "
            + "warm-up \(Report.format(warmup)) s, window \(Report.format(duration)) s per row; server and client "
            + "are separate processes on 127.0.0.1."
        if rounds.count > 1 {
            settings += " \(rounds.count) rounds: every value is the median of the rounds, each ratio the median of "
                + "the ratios within a round; × raw range gives the lowest and highest round."
        }
        lines.append(settings)
        if let note { lines.append(""); lines.append(note) }
        lines.append("")
        let many = rounds.count > 1
        lines.append("| system | conc. | payload | calls/s | × raw |" + (many ? " × raw range |" : "")
            + " p50 µs | p99 µs | p999 µs | p99 × raw | client CPU | server CPU | client RSS | server RSS |")
        lines.append("|---|--:|--:|--:|--:|" + (many ? "--:|" : "") + "--:|--:|--:|--:|--:|--:|--:|--:|")
        for row in rows {
            let label = BenchKind(rawValue: row.kind)?.label(members: row.members) ?? row.kind
            let ratio = row.ratio(\.callsPerSecond).map { Report.format($0, digits: 2) } ?? "–"
            let p99Ratio = row.ratio { Double($0.p99) }.map { Report.format($0, digits: 2) } ?? "–"
            var line = "| \(label) | \(row.concurrency) | \(Report.size(row.payload)) "
            line += "| \(Report.format(row.median(\.callsPerSecond), digits: 0)) | \(ratio) "
            if many {
                line += "| " + (row.ratioRange.map { "\(Report.format($0.0, digits: 2))–\(Report.format($0.1, digits: 2))" } ?? "–") + " "
            }
            line += "| \(Report.micros(UInt64(row.median { Double($0.p50) }))) | \(Report.micros(UInt64(row.median { Double($0.p99) }))) "
            line += "| \(Report.micros(UInt64(row.median { Double($0.p999) }))) | \(p99Ratio) "
            line += "| \(Report.percent(row.median(\.clientCPU))) | \(Report.percent(row.median(\.serverCPU))) "
            line += "| \(Report.mebibytes(Int(row.median { Double($0.clientRSS) }))) | \(Report.mebibytes(Int(row.median { Double($0.serverRSS) }))) |"
            let errors = row.samples.reduce(0) { $0 + $1.result.errors }
            if errors > 0 { line += " \(errors) errors" }
            lines.append(line)
        }
        lines.append("")
        lines.append(contentsOf: targets)
        if let idle {
            lines.append("")
            lines.append("Idle connections: a swift-micro service (TCP) holding \(idle.connections) client connections, "
                + "each after one call: server RSS \(Report.mebibytes(idle.rssAfter)) "
                + "(\(Report.mebibytes(idle.rssBefore)) before they opened; target < 100 MiB).")
        }
        lines.append("")
        lines.append("How to read it: calls/s counts calls completed in the window by closed-loop workers "
            + "(each waits for its answer before the next call); × raw divides by the raw NIO echo at the same "
            + "concurrency and payload (1.00 = as fast as the plain socket echo); latencies are per call, from "
            + "HdrHistogram; CPU is user+system time in the window as a share of one core (200% = both cores); "
            + "client and server share the machine's two cores, so the numbers are the whole system's cost.")
        if rows.contains(where: { $0.kind == BenchKind.broker.rawValue }) {
            lines.append("")
            lines.append("HTTP broker rows: the client is a publisher process and the server one subscriber process per "
                + "queue member, all in queue group \"\(BrokerBench.queue)\" of one topic (two members: two processes, each "
                + "event goes to one of them, chosen at random). A call is one `publish`, which returns once a member "
                + "acknowledged the event, so calls/s is events/s and the latencies are publish-to-acknowledgement "
                + "(HTTP POST of go-micro's JSON envelope with the payload in base64, the subscriber's empty handler, "
                + "the 200 back); conc. is the number of concurrent publishes. Server CPU and RSS are summed over "
                + "the members.")
        }
        return lines.joined(separator: "\n")
    }

    /// The targets, checked at 16 concurrent calls.
    private var targets: [String] {
        let rows = self.rows
        func row(_ kind: BenchKind, _ payload: Int) -> Row? {
            rows.first { $0.kind == kind.rawValue && $0.concurrency == 16 && $0.payload == payload }
        }
        guard let micro64 = row(.micro, 64), let ratio64 = micro64.ratio(\.callsPerSecond) else { return [] }
        var lines = ["Targets (swift-micro JSON, 16 concurrent calls):"]
        lines.append("- 64 B: \(Report.format(ratio64, digits: 2))× raw calls/s (target ≥ 0.8)")
        if let ratio16k = row(.micro, 16384)?.ratio(\.callsPerSecond) {
            lines.append("- 16 KiB: \(Report.format(ratio16k, digits: 2))× raw calls/s (target ≥ 0.6)")
        }
        if let p99 = micro64.ratio({ Double($0.p99) }) {
            lines.append("- p99 at 64 B: \(Report.format(p99, digits: 2))× raw (target ≤ 1.5)")
        }
        if let grpc64 = row(.grpc, 64) {
            // Within each round, then the median, like the ratios to the raw echo.
            let ratios = micro64.samples.compactMap { sample -> Double? in
                let grpc = grpc64.samples.first { $0.round == sample.round }?.result
                guard let grpc, grpc.callsPerSecond > 0 else { return nil }
                return sample.result.callsPerSecond / grpc.callsPerSecond
            }
            if !ratios.isEmpty {
                lines.append("- 64 B: \(Report.format(Report.median(ratios), digits: 1))× grpc-swift 2 calls/s (target ≥ 10)")
            }
        }
        return lines
    }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static var cpuModel: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        }
        return "unknown CPU"
    }

    static func format(_ value: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }

    static func micros(_ nanoseconds: UInt64) -> String {
        format(Double(nanoseconds) / 1000, digits: 0)
    }

    static func percent(_ share: Double) -> String {
        format(share * 100, digits: 0) + "%"
    }

    static func mebibytes(_ bytes: Int) -> String {
        format(Double(bytes) / 1_048_576, digits: 1) + " MiB"
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1024 && bytes % 1024 == 0 ? "\(bytes / 1024) KiB" : "\(bytes) B"
    }
}
