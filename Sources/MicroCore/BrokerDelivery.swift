import Synchronization

/// One message handed to a subscriber, to be settled once: acknowledged after the
/// handler returned, or rejected with its error.
///
/// The publisher's side waits until then (see ``BrokerSubscription/Inbox/deliver(_:)``).
/// A delivery dropped unsettled is rejected with ``BrokerError/Code-swift.enum/notAcknowledged``.
/// Settling twice, or after the publisher gave up, does nothing.
public final class BrokerDelivery: Sendable {
    /// The message.
    public let message: BrokerMessage
    /// What the publisher waits on; not the delivery itself, so dropping the delivery
    /// settles it.
    let outcome: DeliveryOutcome

    init(_ message: BrokerMessage, outcome: DeliveryOutcome) {
        self.message = message
        self.outcome = outcome
    }

    deinit {
        outcome.settle(.failure(BrokerError(.notAcknowledged, "the subscriber dropped the delivery without acknowledging it")))
    }

    /// Says the message was handled: the publisher's delivery succeeds.
    public func acknowledge() {
        outcome.settle(.success(()))
    }

    /// Says the message was not handled: the publisher's delivery fails with `error`, and
    /// the message may be offered to another member of the queue group.
    public func reject(_ error: any Error) {
        outcome.settle(.failure(error))
    }

    /// Whether the delivery was settled (or its publisher gave up).
    public var isSettled: Bool {
        outcome.isSettled
    }
}

/// A one-shot result that the first of the consumer, the publisher's cancellation
/// and `deinit` sets.
final class DeliveryOutcome: Sendable {
    private struct State {
        var result: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state = Mutex(State())

    var isSettled: Bool {
        state.withLock { $0.result != nil }
    }

    func settle(_ result: Result<Void, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    /// Waits for the settlement; cancelling the waiting task gives up with
    /// `CancellationError` (the consumer may still handle the message).
    func wait() async throws {
        try await withTaskCancellationHandler {
            try await waitUncancellably()
        } onCancel: {
            settle(.failure(CancellationError()))
        }
    }

    private func waitUncancellably() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result = state.withLock { state -> Result<Void, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }
}
