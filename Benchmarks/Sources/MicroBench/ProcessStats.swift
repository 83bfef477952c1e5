#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident memory of a process, read from `/proc`.
struct ProcessStats: Sendable {
    /// User plus system CPU time in seconds.
    var cpuSeconds: Double
    /// Resident set size in bytes (`VmRSS`).
    var rssBytes: Int

    /// Reads `/proc/<pid>/stat` and `/proc/<pid>/status`; `nil` when the process is gone.
    static func read(pid: Int32) -> ProcessStats? {
        guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "pid (comm)": state is field 3, utime 14, stime 15 (1-based).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessStats(cpuSeconds: (utime + stime) / ticks, rssBytes: rss(pid: pid) ?? 0)
    }

    /// `VmRSS` of `pid` in bytes.
    static func rss(pid: Int32) -> Int? {
        guard let status = readFile("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kibibytes.map { $0 * 1024 }
        }
        return nil
    }

    /// The whole of a small file, or `nil`.
    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
