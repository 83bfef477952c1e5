public import MicroCore

extension FileRegistry {
    /// Changes from now on to service `service` (or every service when `nil`), made by
    /// this or any other process sharing the directory.
    ///
    /// The current nodes are scanned before this returns, so any change after it returns
    /// is reported. A task then rescans every ``Configuration/pollInterval``, comparing
    /// each file's inode, size and times and re-reading only changed files:
    /// - `create`: a node appeared (or came back after expiring);
    /// - `update`: a node's record changed (a re-registration that only extends the TTL is
    ///   not reported);
    /// - `delete`: a node file went away, expired or became unreadable; the event carries
    ///   the node that went away.
    ///
    /// The task stops when the consumer cancels, stops iterating or drops the sequence.
    ///
    /// - Throws: ``FileRegistryError`` for an empty service name, or when the registry
    ///   directory cannot be created.
    @concurrent public func watch(service: String?) async throws -> RegistryWatch {
        let serviceDirectory = try service.map { try RegistryStore.serviceDirectoryName($0) }
        try prepare()
        var watcher = RegistryWatcher(registry: self, serviceDirectory: serviceDirectory)
        let interval = configuration.pollInterval
        let logger = configuration.logger
        let (stream, continuation) = RegistryWatch.makeStream()
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
                for event in watcher.poll() {
                    if case .terminated = continuation.yield(event) {
                        return
                    }
                }
            }
            logger.trace("watch poller stopped", metadata: ["service": "\(service ?? "*")"])
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
