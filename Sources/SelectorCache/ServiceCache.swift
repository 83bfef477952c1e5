import Logging
import MicroCore
import Synchronization

/// The records of every service a ``CacheSelector`` was asked for, each kept current by a
/// registry watch of its own.
///
/// A service's first lookup opens its watch, then asks the registry; the watch's events
/// (buffered meanwhile) are applied on top, so a change between the two is not lost.
/// Lookups for one service that miss at the same time share one registry request, and
/// expired records are refreshed in the background while they keep serving.
final class ServiceCache: Sendable {
    private struct Entry {
        /// The last records fetched and patched by the watch; `nil` before the first fetch.
        var records: [ServiceRecord]?
        /// When the records were last fetched from the registry. (Times are kept as
        /// ``MicroCore/ContinuousTime``: a fixed-layout entry copies without value witnesses.)
        var fetched: ContinuousTime?
        /// Until when the records are used without asking the registry.
        var expires: ContinuousTime = .now
        /// The registry request under way, which concurrent misses wait for.
        var fill: Task<[ServiceRecord], any Error>?
        /// The task following the registry's watch of this service.
        var watcher: Task<Void, Never>?
    }

    private let registry: any Registry
    private let configuration: CacheSelector.Configuration
    private let entries = Mutex<[String: Entry]>([:])
    private var logger: Logger { configuration.logger }

    init(registry: any Registry, configuration: CacheSelector.Configuration) {
        self.registry = registry
        self.configuration = configuration
    }

    /// The records of `service`. Cached records are returned at once; once expired, a
    /// refresh starts in the background (one per service) and the cached records serve
    /// until it lands, so no call waits for the registry after the first. A service not
    /// yet cached waits for its fetch.
    ///
    /// Inlined into the caller: a cache hit then returns without a frame of its own.
    ///
    /// - Throws: ``MicroError`` 503 when the registry fails and nothing is cached.
    @inline(__always)
    func records(of service: String) async throws -> [ServiceRecord] {
        switch step(for: service) {
        case .hit(let records): return records
        case .wait(let fill): return try await fill.value
        }
    }

    /// What ``records(of:)`` does next: return the cached records, or wait for a fill.
    private enum Step {
        case hit([ServiceRecord])
        case wait(Task<[ServiceRecord], any Error>)
    }

    /// The cached records of `service`, or the fill to wait for (started when there is
    /// none); a fill also starts behind a hit whose records are older than the TTL.
    private func step(for service: String) -> Step {
        let now = ContinuousTime.now
        return entries.withLock { entries -> Step in
            if let entry = entries[service] {
                if let records = entry.records {
                    if now >= entry.expires, entry.fill == nil {
                        entries[service]?.fill = Task { try await self.fill(service) }
                    }
                    return .hit(records)
                }
                if let fill = entry.fill { return .wait(fill) }
            }
            let fill = Task { try await self.fill(service) }
            entries[service, default: Entry()].fill = fill
            return .wait(fill)
        }
    }

    /// Stops every watch.
    func shutdown() {
        let watchers = entries.withLock { entries in
            defer { entries.removeAll() }
            return entries.values.compactMap(\.watcher)
        }
        for watcher in watchers { watcher.cancel() }
    }

    /// The number of services being watched.
    var watchedServices: Int {
        entries.withLock { $0.values.count { $0.watcher != nil } }
    }

    // MARK: Filling

    private func fill(_ service: String) async throws -> [ServiceRecord] {
        let isWatched = entries.withLock { $0[service]?.watcher != nil }
        var watch: RegistryWatch?
        if !isWatched {
            do {
                watch = try await registry.watch(service: service)
            } catch {
                logger.warning(
                    "cannot watch service in the registry yet; will retry",
                    metadata: ["service": "\(service)", "error": "\(error)"]
                )
            }
        }
        let records: [ServiceRecord]
        do {
            records = try await registry.getService(service)
        } catch {
            return try serveStale(service, after: error)
        }
        let now = ContinuousTime.now
        entries.withLock { entries in
            guard var entry = entries[service] else { return }
            entry.fill = nil
            if records.isEmpty, entry.records == nil {
                // Not registered: nothing to keep or watch (as go-micro's cache).
                entries[service] = nil
                return
            }
            entry.records = records
            entry.fetched = now
            entry.expires = now + configuration.ttl
            if entry.watcher == nil {
                entry.watcher = Task { [watch] in await self.follow(service, watch: watch) }
            }
            entries[service] = entry
        }
        return records
    }

    private func serveStale(_ service: String, after error: any Error) throws -> [ServiceRecord] {
        let now = ContinuousTime.now
        let cached = entries.withLock { entries -> (records: [ServiceRecord], fetched: ContinuousTime?)? in
            entries[service]?.fill = nil
            guard let records = entries[service]?.records else {
                if entries[service]?.watcher == nil { entries[service] = nil }
                return nil
            }
            entries[service]?.expires = now + configuration.retryInterval
            return (records, entries[service]?.fetched)
        }
        guard let cached else {
            if let error = error as? MicroError { throw error }
            throw MicroError.serviceUnavailable("registry lookup of service \(service) failed: \(error)")
        }
        let age = cached.fetched.map { "\(now - $0)" } ?? "unknown"
        logger.warning(
            "registry lookup failed; serving stale cached nodes",
            metadata: [
                "service": "\(service)", "nodes": "\(cached.records.reduce(0) { $0 + $1.nodes.count })",
                "fetched": "\(age) ago", "error": "\(error)",
            ]
        )
        return cached.records
    }

    // MARK: Watching

    /// Applies the watch's events until cancelled, re-opening the watch when it breaks.
    /// While it is broken the cached records count as expired, so the next lookup asks the
    /// registry (and serves them stale if that fails too).
    private func follow(_ service: String, watch: RegistryWatch?) async {
        var watch = watch
        var delay = configuration.watchRetryDelay
        while !Task.isCancelled {
            if let current = watch {
                watch = nil
                do {
                    for try await event in current {
                        apply(event, to: service)
                        delay = configuration.watchRetryDelay
                    }
                    if Task.isCancelled { return }
                    logger.notice("registry watch ended; re-opening", metadata: ["service": "\(service)"])
                } catch {
                    if Task.isCancelled { return }
                    logger.warning(
                        "registry watch failed; re-opening", metadata: ["service": "\(service)", "error": "\(error)"]
                    )
                }
                expire(service)
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, configuration.maxWatchRetryDelay)
            do {
                watch = try await registry.watch(service: service)
                // Changes made while the watch was down are not replayed by every
                // registry: fetch afresh on the next lookup.
                expire(service)
            } catch {
                logger.debug("re-opening registry watch failed", metadata: ["service": "\(service)", "error": "\(error)"])
            }
        }
    }

    private func expire(_ service: String) {
        entries.withLock { $0[service]?.expires = .now }
    }

    private func apply(_ event: RegistryEvent, to service: String) {
        guard event.service.name == service else { return }
        entries.withLock { entries in
            guard var records = entries[service]?.records else { return }
            ServiceCache.apply(event, to: &records)
            entries[service]?.records = records
        }
    }

    /// Patches `records` with one watch event, as go-micro's cache does: a create or
    /// update replaces the version's record by the event's, keeping the nodes the event
    /// does not name; a delete removes the event's nodes, and a version once empty.
    static func apply(_ event: RegistryEvent, to records: inout [ServiceRecord]) {
        let changed = event.service
        let index = records.firstIndex { $0.version == changed.version }
        switch event.action {
        case .create, .update:
            guard let index else {
                records.append(changed)
                return
            }
            var record = changed
            let named = Set(changed.nodes.map(\.id))
            record.nodes += records[index].nodes.filter { !named.contains($0.id) }
            records[index] = record
        case .delete:
            // By node id in every version: a registry that lost the deleted value
            // (etcd after compaction) names only the node, not its version.
            let gone = Set(changed.nodes.map(\.id))
            for index in records.indices { records[index].nodes.removeAll { gone.contains($0.id) } }
            records.removeAll { $0.nodes.isEmpty }
        }
    }
}
