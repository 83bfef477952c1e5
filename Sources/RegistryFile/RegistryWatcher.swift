import Logging
import MicroCore

/// The poller behind ``FileRegistry/watch(service:)``: remembers every node file it has
/// seen with its signature and the record it reported, rescans, re-reads only files whose
/// signature changed, and turns the differences into events.
struct RegistryWatcher: Sendable {
    /// What is known about one node file.
    struct Entry: Sendable {
        /// The file as last scanned.
        var file: NodeFile
        /// Its content as last read; `nil` when it was invalid.
        var envelope: NodeEnvelope?
        /// The record last reported as live (created or updated); `nil` when it was
        /// reported deleted or never reported.
        var reported: ServiceRecord?
    }

    let registry: FileRegistry
    /// The escaped directory of the watched service; `nil` watches every service.
    let serviceDirectory: String?
    /// Node files by ``NodeFile/key``.
    private(set) var entries: [String: Entry] = [:]

    /// Creates a watcher and takes the initial snapshot, reporting nothing for it.
    init(registry: FileRegistry, serviceDirectory: String?) {
        self.registry = registry
        self.serviceDirectory = serviceDirectory
        _ = poll()
    }

    /// Rescans the directory and returns the changes since the last scan.
    mutating func poll() -> [RegistryEvent] {
        let files: [NodeFile]
        do {
            files = try scan()
        } catch {
            registry.configuration.logger.warning("watch: cannot scan the registry directory", metadata: ["error": "\(error)"])
            return []
        }
        let now = NodeEnvelope.now()
        var events: [RegistryEvent] = []
        var seen = Set<String>()
        seen.reserveCapacity(files.count)
        for file in files {
            let key = file.key
            seen.insert(key)
            var entry = entries[key] ?? Entry(file: file, envelope: nil, reported: nil)
            if entries[key] == nil || entry.file.signature != file.signature {
                entry.file = file
                switch registry.store.read(file) {
                case .record(let envelope):
                    entry.envelope = envelope
                case .missing:
                    // Vanished between the scan and the read: treat as gone now; the next
                    // scan sees whatever replaced it.
                    entry.envelope = nil
                case .invalid(let reason):
                    registry.warnInvalid(file, reason: reason)
                    entry.envelope = nil
                }
            }
            var live: ServiceRecord?
            if let envelope = entry.envelope {
                if envelope.isLive(at: now) {
                    live = envelope.service
                } else {
                    registry.store.sweep(entry.file)
                }
            }
            if let event = Self.change(from: entry.reported, to: live) { events.append(event) }
            entry.reported = live
            entries[key] = entry
        }
        for (key, entry) in entries where !seen.contains(key) {
            if let reported = entry.reported {
                events.append(RegistryEvent(action: .delete, service: reported))
            }
            entries[key] = nil
        }
        return events
    }

    /// The event that turns `old` into `new`, if any. A heartbeat that only moves the
    /// expiry is not a change.
    static func change(from old: ServiceRecord?, to new: ServiceRecord?) -> RegistryEvent? {
        switch (old, new) {
        case (nil, let new?): RegistryEvent(action: .create, service: new)
        case (let old?, nil): RegistryEvent(action: .delete, service: old)
        case (let old?, let new?) where old != new: RegistryEvent(action: .update, service: new)
        default: nil
        }
    }

    private func scan() throws -> [NodeFile] {
        if let serviceDirectory {
            return try registry.store.nodeFiles(in: serviceDirectory)
        }
        var files: [NodeFile] = []
        for directory in try registry.store.serviceDirectories() {
            files += try registry.store.nodeFiles(in: directory)
        }
        return files
    }
}
