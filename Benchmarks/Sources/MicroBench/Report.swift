import Foundation

/// The markdown report: machine, settings, one row per system, concurrency and payload
/// with ratios to the raw echo, the targets, and the idle-connection memory.
struct Report {
    var results: [LoadResult]
    var idle: IdleMemory?
    var warmup: Double
    var duration: Double
    var note: String?

    var markdown: String {
        var lines: [String] = []
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: .init(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        lines.append("## swift-micro benchmark, \(date)")
        lines.append("")
        lines.append("Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(Report.cpuModel); "
            + "warm-up \(Report.format(warmup)) s, window \(Report.format(duration)) s per row; server and client "
            + "are separate processes on 127.0.0.1.")
        if let note { lines.append(""); lines.append(note) }
        lines.append("")
        lines.append("| system | conc. | payload | calls/s | × raw | p50 µs | p99 µs | p999 µs | p99 × raw | client CPU | server CPU | client RSS | server RSS |")
        lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for result in results {
            let kind = BenchKind(rawValue: result.kind)
            let raw = results.first { $0.kind == BenchKind.raw.rawValue && $0.concurrency == result.concurrency && $0.payload == result.payload }
            let ratio = raw.map { $0.callsPerSecond > 0 ? Report.format(result.callsPerSecond / $0.callsPerSecond, digits: 2) : "–" } ?? "–"
            let p99Ratio = raw.map { $0.p99 > 0 ? Report.format(Double(result.p99) / Double($0.p99), digits: 2) : "–" } ?? "–"
            var row = "| \(kind?.label ?? result.kind) | \(result.concurrency) | \(Report.size(result.payload)) "
            row += "| \(Report.format(result.callsPerSecond, digits: 0)) | \(ratio) "
            row += "| \(Report.micros(result.p50)) | \(Report.micros(result.p99)) | \(Report.micros(result.p999)) | \(p99Ratio) "
            row += "| \(Report.percent(result.clientCPU)) | \(Report.percent(result.serverCPU)) "
            row += "| \(Report.mebibytes(result.clientRSS)) | \(Report.mebibytes(result.serverRSS)) |"
            if result.errors > 0 { row += " \(result.errors) errors" }
            lines.append(row)
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
        return lines.joined(separator: "\n")
    }

    /// The targets, checked at 16 concurrent calls.
    private var targets: [String] {
        func row(_ kind: BenchKind, _ payload: Int) -> LoadResult? {
            results.first { $0.kind == kind.rawValue && $0.concurrency == 16 && $0.payload == payload }
        }
        guard let raw64 = row(.raw, 64), let micro64 = row(.micro, 64) else { return [] }
        var lines = ["Targets (swift-micro JSON, 16 concurrent calls):"]
        lines.append("- 64 B: \(Report.format(micro64.callsPerSecond / raw64.callsPerSecond, digits: 2))× raw calls/s (target ≥ 0.8)")
        if let raw16k = row(.raw, 16384), let micro16k = row(.micro, 16384) {
            lines.append("- 16 KiB: \(Report.format(micro16k.callsPerSecond / raw16k.callsPerSecond, digits: 2))× raw calls/s (target ≥ 0.6)")
        }
        lines.append("- p99 at 64 B: \(Report.format(Double(micro64.p99) / Double(raw64.p99), digits: 2))× raw (target ≤ 1.5)")
        if let grpc64 = row(.grpc, 64), grpc64.callsPerSecond > 0 {
            lines.append("- 64 B: \(Report.format(micro64.callsPerSecond / grpc64.callsPerSecond, digits: 1))× grpc-swift 2 calls/s (target ≥ 10)")
        }
        return lines
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
