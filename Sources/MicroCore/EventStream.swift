/// An asynchronous sequence of events that a backend produces, such as registry changes
/// (``RegistryWatch``). Broker deliveries, which are acknowledged, are a
/// ``BrokerSubscription`` instead.
///
/// Backends create one with ``makeStream(bufferingPolicy:onTermination:)``, keep the
/// continuation, and are told through `onTermination` when the consumer is gone
/// (cancelled, finished iterating, or dropped the sequence), so they can release what
/// they hold. One consumer iterates a stream.
public struct EventStream<Element: Sendable>: AsyncSequence, Sendable {
    /// The producer's side.
    public typealias Continuation = AsyncThrowingStream<Element, any Error>.Continuation

    private let base: AsyncThrowingStream<Element, any Error>
    private let lifetime: Lifetime?

    /// Wraps a stream.
    public init(_ base: AsyncThrowingStream<Element, any Error>) {
        self.base = base
        self.lifetime = nil
    }

    private init(_ base: AsyncThrowingStream<Element, any Error>, lifetime: Lifetime) {
        self.base = base
        self.lifetime = lifetime
    }

    /// Finishes the stream when the last copy of the sequence and its iterators are gone,
    /// so a consumer that drops a watch or subscription without iterating releases it.
    private final class Lifetime: Sendable {
        let continuation: Continuation

        init(_ continuation: Continuation) {
            self.continuation = continuation
        }

        deinit {
            continuation.finish()
        }
    }

    /// Creates a stream and its continuation.
    ///
    /// - Parameters:
    ///   - bufferingPolicy: what to keep while the consumer is slow; unbounded by default.
    ///   - onTermination: called once when the consumer goes away or the producer finishes.
    public static func makeStream(
        bufferingPolicy: Continuation.BufferingPolicy = .unbounded,
        onTermination: (@Sendable () -> Void)? = nil
    ) -> (stream: EventStream, continuation: Continuation) {
        let (stream, continuation) = AsyncThrowingStream<Element, any Error>.makeStream(
            bufferingPolicy: bufferingPolicy
        )
        if let onTermination {
            continuation.onTermination = { _ in onTermination() }
        }
        return (EventStream(stream, lifetime: Lifetime(continuation)), continuation)
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), lifetime: lifetime)
    }

    /// Iterates the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        init(base: AsyncThrowingStream<Element, any Error>.AsyncIterator, lifetime: AnyObject?) {
            self.base = base
            self.lifetime = lifetime
        }

        var base: AsyncThrowingStream<Element, any Error>.AsyncIterator
        let lifetime: AnyObject?

        /// The next event, or `nil` when the stream ended or the task was cancelled.
        public mutating func next() async throws -> Element? {
            try await base.next(isolation: #isolation)
        }

        /// The next event, on the caller's actor; `nil` when the stream ended or the task
        /// was cancelled.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Element? {
            try await base.next(isolation: actor)
        }
    }
}
