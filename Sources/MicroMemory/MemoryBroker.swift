public import MicroCore
import Synchronization

/// A broker that lives in this process: for tests and single-process applications.
///
/// Broadcast subscribers (no queue) each get every message of their topic; subscribers
/// that share a queue name get each message once per group, the members taking turns
/// (round robin). ``publish(_:message:)`` returns when every broadcast subscriber and one
/// member of each group acknowledged; a member that rejects, is busy or does not answer
/// within ``Configuration/deliveryTimeout`` has the message offered to the next member.
/// Messages are delivered as published, headers and body untouched. Every instance is its
/// own bus; ``shared`` is the one the `memory` plugin hands out.
public final class MemoryBroker: Broker {
    /// How a ``MemoryBroker`` delivers.
    public struct Configuration: Sendable {
        /// How long one subscriber may take to settle a delivery before it counts as
        /// failed. Default 30 s.
        public var deliveryTimeout: Duration = .seconds(30)
        /// How many deliveries a subscription may leave untaken before further ones fail
        /// as busy. Default 64.
        public var capacity: Int = 64

        /// The defaults.
        public init() {}
    }

    /// The process-wide instance made by ``MicroCore/Plugin/memoryBroker``.
    public static let shared = MemoryBroker()

    private struct Subscriber {
        var topic: String
        var queue: String?
        var inbox: BrokerSubscription.Inbox
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

    /// The settings.
    public let configuration: Configuration
    private let state = Mutex(State())

    /// Creates a broker with no subscribers, separate from every other instance.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Delivers `message` to every broadcast subscriber of `topic` and to one member of
    /// each queue group, concurrently; returns when each acknowledged.
    ///
    /// - Throws: ``MicroCore/BrokerError`` `notDelivered` naming the subscribers and groups
    ///   that did not acknowledge (every member of a group was tried).
    @discardableResult
    public func publish(_ topic: String, message: BrokerMessage) async throws -> BrokerReceipt {
        let (broadcast, groups) = targets(of: topic)
        guard !broadcast.isEmpty || !groups.isEmpty else { return BrokerReceipt() }
        let timeout = configuration.deliveryTimeout
        let failures = await withTaskGroup(of: String?.self) { group in
            for inbox in broadcast {
                group.addTask {
                    do {
                        try await inbox.deliver(message, timeout: timeout)
                        return nil
                    } catch {
                        return "a broadcast subscriber: \(error)"
                    }
                }
            }
            for (queue, members) in groups {
                group.addTask {
                    var errors: [String] = []
                    for member in members {
                        do {
                            try await member.deliver(message, timeout: timeout)
                            return nil
                        } catch {
                            errors.append("\(error)")
                        }
                    }
                    return "queue group \(queue) (\(members.count) members: \(errors.joined(separator: "; ")))"
                }
            }
            var failures: [String] = []
            for await failure in group {
                if let failure { failures.append(failure) }
            }
            return failures
        }
        if !failures.isEmpty {
            throw BrokerError(.notDelivered, "\(topic): not acknowledged by \(failures.joined(separator: ", "))")
        }
        return BrokerReceipt(subscribers: broadcast.count, groups: groups.count)
    }

    /// Subscribes to `topic`, in queue group `queue` if given; live when this returns.
    public func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription {
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        let (subscription, inbox) = BrokerSubscription.makeSubscription(
            topic: topic, queue: queue, capacity: configuration.capacity
        ) { [weak self] in
            self?.unsubscribe(id)
        }
        state.withLock { state in
            state.subscribers[id] = Subscriber(topic: topic, queue: subscription.queue, inbox: inbox)
            state.byTopic[topic, default: []].append(id)
        }
        return subscription
    }

    /// The number of live subscriptions; for tests that check one is released.
    public var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
    }

    /// The broadcast subscribers of `topic`, and each queue group's members in the order
    /// they are tried: the group's next turn first.
    private func targets(of topic: String) -> ([BrokerSubscription.Inbox], [(String, [BrokerSubscription.Inbox])]) {
        state.withLock { state in
            guard let ids = state.byTopic[topic] else { return ([], []) }
            var broadcast: [BrokerSubscription.Inbox] = []
            var groups: [(String, [BrokerSubscription.Inbox])] = []
            for id in ids {
                guard let subscriber = state.subscribers[id] else { continue }
                guard let queue = subscriber.queue else {
                    broadcast.append(subscriber.inbox)
                    continue
                }
                if let index = groups.firstIndex(where: { $0.0 == queue }) {
                    groups[index].1.append(subscriber.inbox)
                } else {
                    groups.append((queue, [subscriber.inbox]))
                }
            }
            for index in groups.indices {
                let key = GroupKey(topic: topic, queue: groups[index].0)
                let turn = state.turns[key, default: 0]
                state.turns[key] = turn &+ 1
                let members = groups[index].1
                let first = turn % members.count
                groups[index].1 = Array(members[first...] + members[..<first])
            }
            return (broadcast, groups)
        }
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
