public import MicroCore
import Synchronization

/// A broker that lives in this process: for tests and single-process applications.
///
/// Subscribers without a queue each get every message of their topic; subscribers that
/// share a queue name get each message once per group, the members taking turns (round
/// robin). Messages are delivered as published, headers and body untouched. Every
/// instance is its own bus; ``shared`` is the one the `memory` plugin hands out.
public final class MemoryBroker: Broker {
    /// The process-wide instance made by ``MicroCore/Plugin/memoryBroker``.
    public static let shared = MemoryBroker()

    private struct Subscriber {
        var topic: String
        var queue: String?
        var continuation: BrokerSubscription.Continuation
    }

    private struct GroupKey: Hashable {
        var topic: String
        var queue: String
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        /// Topic → ids of its subscribers, in subscription order.
        var byTopic: [String: [UInt64]] = [:]
        /// The next turn of each queue group.
        var turns: [GroupKey: Int] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates a broker with no subscribers, separate from every other instance.
    public init() {}

    /// Delivers `message` to every plain subscriber of `topic` and to one member of each
    /// queue group; succeeds when nobody is subscribed.
    public func publish(_ topic: String, message: BrokerMessage) async throws {
        state.withLock { state in
            guard let ids = state.byTopic[topic] else { return }
            var groups: [String: [UInt64]] = [:]
            var groupOrder: [String] = []
            for id in ids {
                guard let subscriber = state.subscribers[id] else { continue }
                if let queue = subscriber.queue {
                    if groups[queue] == nil { groupOrder.append(queue) }
                    groups[queue, default: []].append(id)
                } else {
                    subscriber.continuation.yield(message)
                }
            }
            for queue in groupOrder {
                guard let members = groups[queue], !members.isEmpty else { continue }
                let key = GroupKey(topic: topic, queue: queue)
                let turn = state.turns[key, default: 0]
                state.turns[key] = turn &+ 1
                let chosen = members[turn % members.count]
                state.subscribers[chosen]?.continuation.yield(message)
            }
        }
    }

    /// Subscribes to `topic`, in queue group `queue` if given; live when this returns.
    ///
    /// The subscription ends when the iterating task is cancelled or stops iterating.
    public func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription {
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        let (stream, continuation) = BrokerSubscription.makeStream { [weak self] in
            self?.unsubscribe(id)
        }
        let queue = queue.flatMap { $0.isEmpty ? nil : $0 }
        state.withLock { state in
            state.subscribers[id] = Subscriber(topic: topic, queue: queue, continuation: continuation)
            state.byTopic[topic, default: []].append(id)
        }
        return stream
    }

    /// The number of live subscriptions; for tests that check one is released.
    public var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
    }

    private func unsubscribe(_ id: UInt64) {
        state.withLock { state in
            guard let subscriber = state.subscribers.removeValue(forKey: id) else { return }
            state.byTopic[subscriber.topic]?.removeAll { $0 == id }
            if state.byTopic[subscriber.topic]?.isEmpty == true {
                state.byTopic[subscriber.topic] = nil
                state.turns = state.turns.filter { $0.key.topic != subscriber.topic }
            }
        }
    }
}
