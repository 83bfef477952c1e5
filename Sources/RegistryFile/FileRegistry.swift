public import MicroCore
import Logging
import Synchronization

/// swift-micro's embedded registry for one machine: one JSON file per node in a
/// directory, shared by every process that uses the same directory. No daemon.
///
/// Layout: `<directory>/<service>/<node-id>.json`, names escaped so that they stay one
/// path component (see ``Configuration/directory``). Each file holds
/// `{"service": <the service with exactly that node>, "expires": <unix seconds or null>}`
/// and is written atomically (temp file + rename), so readers never see a torn record.
/// Deregistering unlinks the file; a node past `expires` is invisible and is removed by
/// whichever process notices it first. Files that do not decode are skipped with a
/// logged warning.
///
/// ```swift
/// let registry = FileRegistry()          // $XDG_RUNTIME_DIR/micro/registry
/// try await registry.register(record, ttl: .seconds(90))
/// for try await event in try await registry.watch(service: "greeter") { … }
/// ```
///
/// Every instance over the same directory sees the same store; instances hold no state
/// besides their configuration, so they can be made freely.
///
/// The file system calls block, so the registry's methods are `@concurrent`: they run on
/// the global concurrent executor, never on the caller's actor or a transport's I/O thread.
///
/// Operations make short blocking file-system calls (open, read, rename, readdir, stat)
/// on the calling task's thread; on a local directory (usually tmpfs under
/// `$XDG_RUNTIME_DIR`) these take microseconds per node. Symbolic links in the directory
/// are ignored.
public final class FileRegistry: Registry {
    /// How this registry was set up.
    public let configuration: Configuration

    let store: RegistryStore
    /// Signatures of invalid files already warned about, so a garbage file is logged
    /// once, not on every read.
    private let warned = Mutex<Set<FileSignature>>([])

    /// Creates a registry over `configuration.directory`, creating the directory (mode
    /// 0700) if it is missing.
    ///
    /// When the directory cannot be created, the failure is logged and every operation
    /// throws a ``FileRegistryError`` naming the path (after trying once more).
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.store = RegistryStore(root: configuration.directory, logger: configuration.logger)
        do {
            try store.createRoot()
            store.checkOwnership()
        } catch {
            configuration.logger.error("cannot prepare the registry directory", metadata: ["error": "\(error)"])
        }
    }

    /// Creates the directory or throws why it cannot; used before every operation.
    func prepare() throws {
        try store.createRoot()
    }

    /// Writes one file per node of `service`; with `ttl`, the nodes expire that long
    /// from now unless registered again.
    ///
    /// - Throws: ``FileRegistryError`` for an empty service name or node id, or when a
    ///   file cannot be written.
    @concurrent public func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        let serviceDirectory = try RegistryStore.serviceDirectoryName(service.name)
        let files = try service.nodes.map { try RegistryStore.nodeFileName($0.id, service: service.name) }
        try prepare()
        let expires = ttl.map { NodeEnvelope.now() + Self.seconds($0) }
        for (node, fileName) in zip(service.nodes, files) {
            var single = service
            single.nodes = [node]
            try store.write(NodeEnvelope(service: single, expires: expires), serviceDirectory: serviceDirectory, fileName: fileName)
        }
    }

    /// Removes the node files of `service`'s nodes (matched by node id); nodes that are
    /// not registered are ignored.
    @concurrent public func deregister(_ service: ServiceRecord) async throws {
        let serviceDirectory = try RegistryStore.serviceDirectoryName(service.name)
        let files = try service.nodes.map { try RegistryStore.nodeFileName($0.id, service: service.name) }
        try prepare()
        for fileName in files {
            try store.remove(serviceDirectory: serviceDirectory, fileName: fileName)
        }
    }

    /// The live nodes of service `name`, one record per version (sorted by version) with
    /// that version's nodes merged (sorted by id); empty when there are none.
    ///
    /// A version's metadata and endpoints are those of its most recently written node.
    @concurrent public func getService(_ name: String) async throws -> [ServiceRecord] {
        let serviceDirectory = try RegistryStore.serviceDirectoryName(name)
        try prepare()
        return merge(try liveRecords(in: serviceDirectory))
    }

    /// Every service with at least one live node: one record per name and version with
    /// the nodes merged, sorted by name then version.
    @concurrent public func listServices() async throws -> [ServiceRecord] {
        try prepare()
        var records: [ServiceRecord] = []
        for serviceDirectory in try store.serviceDirectories().sorted() {
            records += merge(try liveRecords(in: serviceDirectory))
        }
        return records.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }

    /// The live records of one service directory with their files; sweeps expired ones
    /// and skips invalid ones.
    func liveRecords(in serviceDirectory: String) throws -> [(file: NodeFile, envelope: NodeEnvelope)] {
        let now = NodeEnvelope.now()
        var result: [(file: NodeFile, envelope: NodeEnvelope)] = []
        for file in try store.nodeFiles(in: serviceDirectory) {
            guard let envelope = read(file) else { continue }
            if envelope.isLive(at: now) {
                result.append((file, envelope))
            } else {
                store.sweep(file)
            }
        }
        return result
    }

    /// Reads a node file: the record, or `nil` when it vanished or is invalid (warned
    /// about once per file version).
    func read(_ file: NodeFile) -> NodeEnvelope? {
        switch store.read(file) {
        case .record(let envelope):
            return envelope
        case .missing:
            return nil
        case .invalid(let reason):
            warnInvalid(file, reason: reason)
            return nil
        }
    }

    /// Logs a warning about an invalid file, once per file version.
    func warnInvalid(_ file: NodeFile, reason: String) {
        let isNew = warned.withLock { warned in
            if warned.count > 4096 { warned.removeAll() }
            return warned.insert(file.signature).inserted
        }
        guard isNew else { return }
        configuration.logger.warning(
            "skipping a file that is not a node record",
            metadata: ["path": "\(store.path(file.serviceDirectory, file.fileName))", "reason": "\(reason)"]
        )
    }

    /// One record per version, nodes merged and sorted by id; a version's other fields
    /// come from its most recently written node file.
    private func merge(_ records: [(file: NodeFile, envelope: NodeEnvelope)]) -> [ServiceRecord] {
        var byVersion: [String: (record: ServiceRecord, newest: FileSignature)] = [:]
        for (file, envelope) in records {
            let service = envelope.service
            if var existing = byVersion[service.version] {
                existing.record.nodes += service.nodes
                if (file.signature.mtimeSeconds, file.signature.mtimeNanoseconds)
                    > (existing.newest.mtimeSeconds, existing.newest.mtimeNanoseconds)
                {
                    existing.record.metadata = service.metadata
                    existing.record.endpoints = service.endpoints
                    existing.newest = file.signature
                }
                byVersion[service.version] = existing
            } else {
                byVersion[service.version] = (service, file.signature)
            }
        }
        return byVersion.values
            .map { entry in
                var record = entry.record
                record.nodes.sort { $0.id < $1.id }
                return record
            }
            .sorted { $0.version < $1.version }
    }

    static func seconds(_ duration: Duration) -> Double {
        let components = duration.components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
