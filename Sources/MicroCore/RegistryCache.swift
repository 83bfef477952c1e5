public import Logging
import Synchronization

/// The registry as a plugin sees it on its per-call path: each service's records kept in
/// memory, filled on first use and kept current by a registry watch, so a lookup of a warm
/// service makes no registry request.
///
/// - A service's first lookup opens its watch, then asks the registry; the watch's events
///   (buffered meanwhile) are applied on top, so a change between the two is not lost.
///   Lookups of one service that miss at the same time share one registry request
///   (single flight).
/// - Records are trusted for ``Configuration/ttl`` (1 minute, as go-micro's cache);
///   after that, or once the watch broke, the next lookup starts a refresh in the
///   background and is answered from the cache meanwhile.
/// - When the registry fails, lookups keep getting the last known records (stale), with
///   a warning in the log, and the registry is asked again after
///   ``Configuration/retryInterval``. Only a service never fetched fails (503).
/// - ``serviceNames()`` does the same for the list of services, fed by a watch of all
///   services.
///
/// The runtime makes one per program and hands it to the plugins it makes
/// (``PluginContext/registryCache``): the cache selector picks nodes from it and a broker
/// finds subscribers in it, sharing one watch per service.
///
/// ```swift
/// let cache = RegistryCache(registry: registry)
/// let records = try await cache.records(of: "greeter")   // asks the registry once
/// let again = try await cache.records(of: "greeter")     // from memory
/// ```
public final class RegistryCache: PluginLifecycle {
    /// How the cache keeps its records.
    public struct Configuration: Sendable {
        /// How long fetched records are trusted without a registry request. The
        /// registry's watch keeps them current meanwhile; after this long the next lookup
        /// refreshes them (in the background, answering from the cache until the answer
        /// lands). Default 1 minute, as go-micro's cache.
        public var ttl: Duration = .seconds(60)
        /// How long stale records are served after a failed registry request before the
        /// registry is asked again. Default 5 s.
        public var retryInterval: Duration = .seconds(5)
        /// The first pause before a broken watch is re-opened; it doubles up to
        /// ``maxWatchRetryDelay``. Default 100 ms.
        public var watchRetryDelay: Duration = .milliseconds(100)
        /// The longest pause between attempts to re-open a watch. Default 10 s.
        public var maxWatchRetryDelay: Duration = .seconds(10)
        /// Where stale answers and watch failures are logged.
        public var logger: Logger

        /// The defaults, logging to `micro.registry.cache`.
        public init(logger: Logger = Logger(label: "micro.registry.cache")) {
            self.logger = logger
        }

        /// `--selector_ttl` (`MICRO_SELECTOR_TTL`, default `1m`, go-micro's
        /// `selector_ttl`): how long the cache trusts records without a registry request.
        public static let ttlKey = OptionKey(
            "selector_ttl", default: "1m", help: "how long the registry cache trusts nodes without a registry request"
        )

        /// The defaults with ``ttlKey`` from `options`.
        ///
        /// - Throws: ``OptionError`` when the TTL is not a duration.
        public init(options: MicroOptions, logger: Logger = Logger(label: "micro.registry.cache")) throws {
            self.init(logger: logger)
            if let ttl = try options.duration(Configuration.ttlKey.name) { self.ttl = ttl }
        }
    }

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

    /// The registry behind the cache.
    public let registry: any Registry
    /// The settings.
    public let configuration: Configuration
    private let entries = Mutex<[Key: Entry]>([:])
    private var logger: Logger { configuration.logger }

    /// Creates an empty cache over `registry`; nothing is fetched or watched until the
    /// first lookup.
    public init(registry: any Registry, configuration: Configuration = Configuration()) {
        self.registry = registry
        self.configuration = configuration
    }

    /// The records of `service`. Cached records are returned at once; once expired, a
    /// refresh starts in the background (one per service) and the cached records serve
    /// until it lands, so no lookup waits for the registry after the first. A service not
    /// yet cached waits for its fetch.
    ///
    /// Inlinable: a cache hit then returns in the caller's frame, without one of its own.
    ///
    /// - Throws: ``MicroError`` 503 when the registry fails and nothing is cached.
    @inlinable
    public func records(of service: String) async throws -> [ServiceRecord] {
        switch step(for: .service(service)) {
        case .hit(let records): return records
        case .wait(let fill): return try await fill.value
        }
    }

    /// The names of the registered services, sorted, from a list kept like a service's
    /// records: fetched once with ``Registry/listServices()``, patched by a watch of all
    /// services, refreshed in the background after the TTL, stale on registry errors.
    ///
    /// A name may outlive its last node until the next refresh (a watch reports nodes,
    /// not services); its ``records(of:)`` are then empty.
    ///
    /// - Throws: ``MicroError`` 503 when the registry fails and nothing is cached.
    public func serviceNames() async throws -> [String] {
        let records: [ServiceRecord]
        switch step(for: .all) {
        case .hit(let cached): records = cached
        case .wait(let fill): records = try await fill.value
        }
        return Set(records.map(\.name)).sorted()
    }

    /// What is cached: one service's records, or the list of every service (a record per
    /// service, holding only its name).
    @usableFromInline
    enum Key: Hashable, Sendable, CustomStringConvertible {
        case service(String)
        case all

        /// The name a watch of this key follows; `nil` for every service.
        var service: String? {
            if case .service(let name) = self { return name }
            return nil
        }

        @usableFromInline
        var description: String { service.map { "service \($0)" } ?? "the list of services" }

        /// The `service` of log metadata.
        var label: String { service ?? "*" }
    }

    /// What a lookup does next: return the cached records, or wait for a fill.
    @usableFromInline
    enum Step {
        case hit([ServiceRecord])
        case wait(Task<[ServiceRecord], any Error>)
    }

    /// The cached records of `key`, or the fill to wait for (started when there is
    /// none); a fill also starts behind a hit whose records are older than the TTL.
    @usableFromInline
    func step(for key: Key) -> Step {
        let now = ContinuousTime.now
        return entries.withLock { entries -> Step in
            if let entry = entries[key] {
                if let records = entry.records {
                    if now >= entry.expires, entry.fill == nil {
                        entries[key]?.fill = Task { try await self.fill(key) }
                    }
                    return .hit(records)
                }
                if let fill = entry.fill { return .wait(fill) }
            }
            let fill = Task { try await self.fill(key) }
            entries[key, default: Entry()].fill = fill
            return .wait(fill)
        }
    }

    /// Stops every watch and forgets every record; lookups after this ask the registry
    /// again.
    public func shutdown() async {
        stopWatches()
    }

    /// Stops every watch and forgets every record, without waiting: for owners that drop
    /// the cache (its watch tasks hold it, so it would live on otherwise).
    public func stopWatches() {
        let watchers = entries.withLock { entries in
            defer { entries.removeAll() }
            return entries.values.compactMap(\.watcher)
        }
        for watcher in watchers { watcher.cancel() }
    }

    /// The number of services being watched (the watch of the list not counted).
    public var watchedServices: Int {
        entries.withLock { $0.count { $0.key != .all && $0.value.watcher != nil } }
    }

    // MARK: Filling

    private func fill(_ key: Key) async throws -> [ServiceRecord] {
        let isWatched = entries.withLock { $0[key]?.watcher != nil }
        var watch: RegistryWatch?
        if !isWatched {
            do {
                watch = try await registry.watch(service: key.service)
            } catch {
                logger.warning(
                    "cannot watch the registry yet; will retry", metadata: ["service": "\(key.label)", "error": "\(error)"]
                )
            }
        }
        let records: [ServiceRecord]
        do {
            switch key {
            case .service(let name): records = try await registry.getService(name)
            case .all: records = try await registry.listServices()
            }
        } catch {
            return try serveStale(key, after: error)
        }
        let now = ContinuousTime.now
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.fill = nil
            if records.isEmpty, entry.records == nil, key != .all {
                // Not registered: nothing to keep or watch (as go-micro's cache).
                entries[key] = nil
                return
            }
            entry.records = records
            entry.fetched = now
            entry.expires = now + configuration.ttl
            if entry.watcher == nil {
                entry.watcher = Task { [watch] in await self.follow(key, watch: watch) }
            }
            entries[key] = entry
        }
        return records
    }

    private func serveStale(_ key: Key, after error: any Error) throws -> [ServiceRecord] {
        let now = ContinuousTime.now
        let cached = entries.withLock { entries -> (records: [ServiceRecord], fetched: ContinuousTime?)? in
            entries[key]?.fill = nil
            guard let records = entries[key]?.records else {
                if entries[key]?.watcher == nil { entries[key] = nil }
                return nil
            }
            entries[key]?.expires = now + configuration.retryInterval
            return (records, entries[key]?.fetched)
        }
        guard let cached else {
            if let error = error as? MicroError { throw error }
            throw MicroError.serviceUnavailable("registry lookup of \(key) failed: \(error)")
        }
        let age = cached.fetched.map { "\(now - $0)" } ?? "unknown"
        logger.warning(
            "registry lookup failed; serving stale cached nodes",
            metadata: [
                "service": "\(key.label)", "nodes": "\(cached.records.reduce(0) { $0 + $1.nodes.count })",
                "fetched": "\(age) ago", "error": "\(error)",
            ]
        )
        return cached.records
    }

    // MARK: Watching

    /// Applies the watch's events until cancelled, re-opening the watch when it breaks.
    /// While it is broken the cached records count as expired, so the next lookup asks the
    /// registry (and serves them stale if that fails too).
    private func follow(_ key: Key, watch: RegistryWatch?) async {
        var watch = watch
        var delay = configuration.watchRetryDelay
        while !Task.isCancelled {
            if let current = watch {
                watch = nil
                do {
                    for try await event in current {
                        apply(event, to: key)
                        delay = configuration.watchRetryDelay
                    }
                    if Task.isCancelled { return }
                    logger.notice("registry watch ended; re-opening", metadata: ["service": "\(key.label)"])
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("registry watch failed; re-opening", metadata: ["service": "\(key.label)", "error": "\(error)"])
                }
                expire(key)
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, configuration.maxWatchRetryDelay)
            do {
                watch = try await registry.watch(service: key.service)
                // Changes made while the watch was down are not replayed by every
                // registry: fetch afresh on the next lookup.
                expire(key)
            } catch {
                logger.debug("re-opening registry watch failed", metadata: ["service": "\(key.label)", "error": "\(error)"])
            }
        }
    }

    private func expire(_ key: Key) {
        entries.withLock { $0[key]?.expires = .now }
    }

    private func apply(_ event: RegistryEvent, to key: Key) {
        entries.withLock { entries in
            guard var records = entries[key]?.records else { return }
            switch key {
            case .service(let name):
                guard event.service.name == name else { return }
                RegistryCache.apply(event, to: &records)
            case .all:
                RegistryCache.applyToList(event, &records)
            }
            entries[key]?.records = records
        }
    }

    /// Patches the list of services: a create or update adds a name not listed yet; a
    /// delete that names no node (the whole service went away) removes it.
    static func applyToList(_ event: RegistryEvent, _ records: inout [ServiceRecord]) {
        let name = event.service.name
        switch event.action {
        case .create, .update:
            if !records.contains(where: { $0.name == name }) { records.append(ServiceRecord(name: name)) }
        case .delete:
            if event.service.nodes.isEmpty { records.removeAll { $0.name == name } }
        }
    }

    /// Patches `records` with one watch event, as go-micro's cache does: a create or
    /// update replaces the version's record by the event's, keeping the nodes the event
    /// does not name; a delete removes the event's nodes, and a version once empty.
    public static func apply(_ event: RegistryEvent, to records: inout [ServiceRecord]) {
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
