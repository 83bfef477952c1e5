import Synchronization

/// The deliveries of one broker subscription, in the order they arrived: an
/// `AsyncSequence` with one consumer.
///
/// ```swift
/// let subscription = try await broker.subscribe("orders.created", queue: "billing")
/// for try await delivery in subscription {
///     do {
///         try await bill(delivery.message)
///         delivery.acknowledge()
///     } catch {
///         delivery.reject(error)   // offered to another member of "billing"
///     }
/// }
/// ```
///
/// or, the same loop, `try await subscription.handle { message in try await bill(message) }`.
///
/// The sequence ends after ``unsubscribe()`` once the buffered deliveries were taken, or
/// at once when the consuming task is cancelled; a subscription that is dropped ends
/// too. Every delivery the consumer did not take by then is rejected with
/// ``BrokerError/Code-swift.enum/unsubscribed``, so its publisher offers it elsewhere.
public final class BrokerSubscription: AsyncSequence, Sendable {
    /// Each element is one message to settle.
    public typealias Element = BrokerDelivery

    /// The topic.
    public let topic: String
    /// The queue group; `nil` for a broadcast subscriber.
    public let queue: String?
    private let core: Core

    private init(topic: String, queue: String?, core: Core) {
        self.topic = topic
        self.queue = queue
        self.core = core
    }

    deinit {
        core.end(rejecting: "the subscription was dropped")
    }

    /// Creates a subscription and the inbox its broker delivers to.
    ///
    /// - Parameters:
    ///   - topic: the topic.
    ///   - queue: the queue group; `nil` or empty for a broadcast subscriber.
    ///   - capacity: how many deliveries the consumer may leave untaken before further
    ///     ones fail with ``BrokerError/Code-swift.enum/busy``; at least 1. Default 64.
    ///   - onEnd: called once when the subscription stops taking deliveries (after
    ///     ``unsubscribe()``, cancellation of its consumer, or when dropped): the broker
    ///     forgets the subscriber here and deregisters it if it registered one.
    ///     ``unsubscribe()`` waits for it; otherwise it runs in a task of its own.
    public static func makeSubscription(
        topic: String, queue: String?, capacity: Int = 64,
        onEnd: @escaping @Sendable () async -> Void = {}
    ) -> (subscription: BrokerSubscription, inbox: Inbox) {
        let core = Core(topic: topic, capacity: Swift.max(1, capacity), onEnd: onEnd)
        let queue = queue.flatMap { $0.isEmpty ? nil : $0 }
        return (BrokerSubscription(topic: topic, queue: queue, core: core), Inbox(core: core))
    }

    /// Stops new deliveries and deregisters the subscriber; the sequence then ends once
    /// the consumer took the deliveries already buffered. Returns when the broker has
    /// forgotten the subscriber.
    public func unsubscribe() async {
        if let onEnd = core.close() { await onEnd() }
    }

    /// Whether the subscription still takes deliveries.
    public var isActive: Bool {
        core.isOpen
    }

    /// Runs `handler` for each message in turn, acknowledging it when the handler
    /// returns and rejecting it with the handler's error; returns when the subscription
    /// ends.
    public func handle(_ handler: (BrokerMessage) async throws -> Void) async throws {
        for try await delivery in self {
            do {
                try await handler(delivery.message)
                delivery.acknowledge()
            } catch {
                delivery.reject(error)
            }
        }
    }

    /// Makes the iterator; one consumer iterates a subscription.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscription: self)
    }

    /// Takes the deliveries one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        // Holds the subscription, so that it lives while it is iterated.
        let subscription: BrokerSubscription

        /// The next delivery; `nil` when the subscription ended or the task was cancelled
        /// (which ends the subscription).
        public mutating func next() async throws -> BrokerDelivery? {
            try await next(isolation: #isolation)
        }

        /// The next delivery, on the caller's actor; see ``next()``.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> BrokerDelivery? {
            await subscription.core.take()
        }
    }

    /// The broker's side of a subscription: where it delivers messages.
    public struct Inbox: Sendable {
        fileprivate let core: Core

        /// Buffers `message` for the consumer and waits until the consumer settled it.
        ///
        /// - Throws: ``BrokerError`` `unsubscribed` when the subscription ended (before or
        ///   while the message waited), `busy` when its buffer is full,
        ///   `notAcknowledged` when the consumer dropped it; the consumer's error when it
        ///   rejected the message; `CancellationError` when the calling task is
        ///   cancelled (the consumer may still handle a message it already took).
        public func deliver(_ message: BrokerMessage) async throws {
            let outcome = DeliveryOutcome()
            try core.offer(BrokerDelivery(message, outcome: outcome))
            try await outcome.wait()
        }

        /// Delivers as ``deliver(_:)`` does, giving up after `timeout`.
        ///
        /// - Throws: what ``deliver(_:)`` throws, or ``BrokerError`` `timedOut` when the
        ///   consumer did not settle the message within `timeout`.
        public func deliver(_ message: BrokerMessage, timeout: Duration) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await deliver(message) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw BrokerError(.timedOut, "the subscriber did not acknowledge within \(timeout)")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }

        /// Whether the subscription still takes deliveries.
        public var isOpen: Bool {
            core.isOpen
        }
    }

    /// The buffer between the inbox and the consumer.
    fileprivate final class Core: Sendable {
        private struct State {
            var buffer: [BrokerDelivery] = []
            var consumer: CheckedContinuation<BrokerDelivery?, Never>?
            var open = true
            var onEnd: (@Sendable () async -> Void)?
        }

        private let topic: String
        private let capacity: Int
        private let state: Mutex<State>

        init(topic: String, capacity: Int, onEnd: @escaping @Sendable () async -> Void) {
            self.topic = topic
            self.capacity = capacity
            self.state = Mutex(State(onEnd: onEnd))
        }

        var isOpen: Bool {
            state.withLock { $0.open }
        }

        func offer(_ delivery: BrokerDelivery) throws {
            let consumer = try state.withLock { state -> CheckedContinuation<BrokerDelivery?, Never>? in
                guard state.open else {
                    throw BrokerError(.unsubscribed, "the subscription to \(topic) has ended")
                }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return consumer
                }
                // Deliveries whose publisher gave up no longer count against the bound.
                state.buffer.removeAll { $0.isSettled }
                guard state.buffer.count < capacity else {
                    throw BrokerError(.busy, "the subscriber of \(topic) has \(capacity) deliveries waiting; it is too slow")
                }
                state.buffer.append(delivery)
                return nil
            }
            consumer?.resume(returning: delivery)
        }

        /// The next unsettled delivery, waiting for one; `nil` once closed and empty.
        func take() async -> BrokerDelivery? {
            while true {
                let delivery = await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<BrokerDelivery?, Never>) in
                        let ready = state.withLock { state -> BrokerDelivery?? in
                            if !state.buffer.isEmpty { return .some(state.buffer.removeFirst()) }
                            if !state.open || Task.isCancelled { return .some(nil) }
                            state.consumer = continuation
                            return .none
                        }
                        if let ready { continuation.resume(returning: ready) }
                    }
                } onCancel: {
                    self.end(rejecting: "its consumer was cancelled")
                }
                guard let delivery else {
                    if Task.isCancelled { end(rejecting: "its consumer was cancelled") }
                    return nil
                }
                if !delivery.isSettled { return delivery }
            }
        }

        /// Stops new deliveries; the buffered ones stay for the consumer. Returns the
        /// end handler when this call closed the subscription.
        func close() -> (@Sendable () async -> Void)? {
            let (consumer, onEnd) = state.withLock { state -> (CheckedContinuation<BrokerDelivery?, Never>?, (@Sendable () async -> Void)?) in
                state.open = false
                defer {
                    state.consumer = nil
                    state.onEnd = nil
                }
                // A waiting consumer has nothing buffered: it ends now.
                return (state.consumer, state.onEnd)
            }
            consumer?.resume(returning: nil)
            return onEnd
        }

        /// Stops new deliveries and rejects the buffered ones; runs the end handler in a
        /// task when this call closed the subscription.
        func end(rejecting reason: String) {
            let onEnd = close()
            let buffered = state.withLock { state in
                defer { state.buffer = [] }
                return state.buffer
            }
            let error = BrokerError(.unsubscribed, "the subscription to \(topic) ended: \(reason)")
            for delivery in buffered { delivery.outcome.settle(.failure(error)) }
            if let onEnd { Task { await onEnd() } }
        }
    }
}
