import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
public import MicroCore
import NIOCore

extension EtcdRegistry {
    /// Changes from now on to service `service` (or every service when `nil`), made by
    /// any client of the same etcd.
    ///
    /// Before returning, this reads etcd's current revision; the stream then watches
    /// the prefix (`/v3/watch` with `prev_kv`) from the next revision, so every change
    /// after this returns is delivered:
    /// - a put of a new key is `create`, a put over an existing key `update`;
    /// - a delete (deregistration or lease expiry) is `delete`, carrying the record
    ///   from the key's previous value.
    ///
    /// When the stream breaks (etcd restarted, connection lost, another endpoint
    /// needed) it reconnects with backoff (``Configuration/watchBackoff`` doubling up to
    /// ``Configuration/watchMaximumBackoff``) and resumes from the revision after the
    /// last one delivered, so no change is lost or repeated. If etcd has compacted
    /// those revisions away, the loss is logged as an error and the watch goes on from
    /// the oldest revision etcd still has.
    ///
    /// The stream and its HTTP request end when the consumer cancels, stops iterating
    /// or drops the sequence, or on ``shutdown()``.
    ///
    /// - Throws: ``MicroCore/MicroError`` 503 when etcd cannot be reached.
    public func watch(service: String?) async throws -> RegistryWatch {
        let prefix = service.map { Self.servicePrefix($0) } ?? Self.prefix
        let key = Data(prefix.utf8)
        let answer = try await client.call(
            "/v3/kv/range", EtcdWire.RangeRequest(key: key, range_end: EtcdWire.prefixEnd(key), count_only: true),
            as: EtcdWire.RangeResponse.self
        )
        return watch(prefix: prefix, from: (answer.header?.revision?.value ?? 0) + 1)
    }

    /// A watch of the keys under `prefix` from revision `start` on.
    func watch(prefix: String, from start: Int64) -> RegistryWatch {
        let id = nextWatchID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = RegistryWatch.makeStream()
        let task = Task { [self] in
            await self.runWatch(prefix: prefix, from: start, continuation: continuation)
            continuation.finish()
        }
        watches.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            self?.watches.withLock { _ = $0.removeValue(forKey: id) }
        }
        return stream
    }

    /// Why a watch stream has to be opened again.
    private struct Reconnect: Error, CustomStringConvertible {
        var description: String
        var immediately = false
    }

    /// The watch loop: open, read, reconnect from the next revision, until cancelled.
    func runWatch(prefix: String, from start: Int64, continuation: RegistryWatch.Continuation) async {
        let logger = configuration.logger
        var next = start
        var backoff = configuration.watchBackoff
        let key = Data(prefix.utf8)
        while !Task.isCancelled {
            var immediately = false
            do {
                let request = EtcdWire.WatchRequest(
                    create_request: .init(key: key, range_end: EtcdWire.prefixEnd(key), start_revision: .init(next), prev_kv: true)
                )
                let (endpoint, response) = try await client.openStream("/v3/watch", request)
                logger.debug("etcd watch open", metadata: ["prefix": "\(prefix)", "from": "\(next)", "endpoint": "\(endpoint)"])
                var pending: [UInt8] = []
                for try await chunk in response.body {
                    pending += chunk.readableBytesView
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = pending[..<newline]
                        pending.removeSubrange(...newline)
                        guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
                        let handled = try handle(line: Array(line), prefix: prefix, next: &next, continuation: continuation)
                        if handled == .created { backoff = configuration.watchBackoff }
                        if handled == .consumerGone { return }
                    }
                }
                if !pending.isEmpty {
                    if try handle(line: pending, prefix: prefix, next: &next, continuation: continuation) == .consumerGone { return }
                }
                throw Reconnect(description: "etcd closed the watch stream")
            } catch {
                if Task.isCancelled || error is CancellationError { return }
                if let reconnect = error as? Reconnect { immediately = reconnect.immediately }
                logger.warning(
                    "etcd watch stream broke; reconnecting",
                    metadata: [
                        "prefix": "\(prefix)", "from revision": "\(next)", "reason": "\(error)",
                        "in": "\(immediately ? Duration.zero : backoff)",
                    ]
                )
            }
            if !immediately {
                do {
                    try await Task.sleep(for: backoff)
                } catch {
                    return
                }
                backoff = min(backoff * 2, configuration.watchMaximumBackoff)
            }
        }
    }

    /// What one line of the stream meant to the loop.
    private enum Handled {
        case created, events, consumerGone, other
    }

    /// Handles one JSON line of the watch stream: delivers its events and moves `next`
    /// past them.
    ///
    /// - Throws: ``Reconnect`` when etcd ended or refused the watch.
    private func handle(
        line: [UInt8], prefix: String, next: inout Int64, continuation: RegistryWatch.Continuation
    ) throws -> Handled {
        let logger = configuration.logger
        let message: EtcdWire.WatchMessage
        do {
            message = try JSONDecoder().decode(EtcdWire.WatchMessage.self, from: Data(line))
        } catch {
            logger.warning("skipping a watch line that is not JSON", metadata: ["line": "\(String(decoding: line.prefix(300), as: UTF8.self))"])
            return .other
        }
        if let error = message.error {
            if error.message.contains("auth token") { client.invalidateToken() }
            throw Reconnect(description: "etcd ended the watch: \(error.message)")
        }
        guard let result = message.result else { return .other }
        if let compacted = result.compact_revision?.value, compacted > 0 {
            logger.error(
                "etcd compacted the revisions this watch had not seen; changes between them are lost",
                metadata: ["prefix": "\(prefix)", "wanted from": "\(next)", "oldest kept": "\(compacted)"]
            )
            next = max(next, compacted)
            throw Reconnect(description: "compacted at revision \(compacted)", immediately: true)
        }
        if result.canceled == true {
            if result.cancel_reason?.contains("auth token") == true { client.invalidateToken() }
            throw Reconnect(description: "etcd canceled the watch: \(result.cancel_reason ?? "no reason given")")
        }
        if result.created == true {
            if let current = result.header?.revision?.value, current > 0, current + 1 < next {
                // etcd's revision went back: its data was lost or restored from a backup.
                // Waiting for the old revision would hide every change until then.
                logger.error(
                    "etcd's revision went back (its data was replaced); changes made before now may be missed",
                    metadata: ["prefix": "\(prefix)", "expected from": "\(next)", "etcd at": "\(current)"]
                )
                next = current + 1
                throw Reconnect(description: "etcd's revision went back to \(current)", immediately: true)
            }
            return .created
        }
        guard let events = result.events, !events.isEmpty else { return .other }
        var last = next - 1
        for event in events {
            guard let kv = event.kv else { continue }
            let revision = kv.modRevision
            last = max(last, revision)
            if revision < next { continue }  // already delivered before a reconnect
            guard let change = registryEvent(event, kv: kv) else { continue }
            if case .terminated = continuation.yield(change) { return .consumerGone }
        }
        next = max(next, last + 1)
        return .events
    }

    /// The registry event of one etcd event, or `nil` for a value that is not a record.
    private func registryEvent(_ event: EtcdWire.Event, kv: EtcdWire.KeyValue) -> RegistryEvent? {
        if event.isDelete {
            if let previous = event.prev_kv, let record = decode(previous) {
                return RegistryEvent(action: .delete, service: record)
            }
            // No previous value (or not a record): name the node from its key.
            let parts = String(decoding: kv.key, as: UTF8.self).dropFirst(Self.prefix.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return RegistryEvent(
                action: .delete,
                service: ServiceRecord(name: String(parts[0]), version: "", nodes: [Node(id: String(parts[1]), address: "")])
            )
        }
        guard let record = decode(kv) else { return nil }
        let action: RegistryEvent.Action = kv.createRevision == kv.modRevision ? .create : .update
        return RegistryEvent(action: action, service: record)
    }
}
