import Synchronization

/// Remembers which nodes could not be reached lately, so a selector can steer calls
/// elsewhere while the registry still lists them.
///
/// A call that failed with a ``TransportError`` (refused, reset, timed out while
/// connecting), or that a draining node refused (``MicroError/nodeDraining(_:)``), puts
/// its node on hold for `duration`; a successful call takes it off. Errors a handler
/// returned are not held against a node. (go-micro's `Mark` does
/// nothing; this is swift-micro's one piece of per-node state.)
public final class NodeCooldown: Sendable {
    /// How long a node that could not be reached is avoided.
    public let duration: Duration
    private let until = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Creates an empty cooldown list.
    ///
    /// - Parameter duration: how long a node that could not be reached is avoided.
    public init(duration: Duration = .seconds(5)) {
        self.duration = duration
    }

    /// Records the outcome of a call to `node`: `error` is `nil` on success.
    public func mark(_ node: Node, error: (any Error)?) {
        let isConnectionFailure = error is TransportError || (error as? MicroError)?.isNodeDraining == true
        until.withLock { until in
            if isConnectionFailure {
                until[node.id] = .now + duration
            } else if error == nil, !until.isEmpty {
                // Checked first: a success with nothing on hold (the usual case) hashes
                // no id.
                until.removeValue(forKey: node.id)
            }
        }
    }

    /// The ids of the nodes on hold now.
    public func avoided() -> Set<String> {
        until.withLock { until in
            guard !until.isEmpty else { return [] }
            let now = ContinuousClock.now
            until = until.filter { $0.value > now }
            return Set(until.keys)
        }
    }
}
