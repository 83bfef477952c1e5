import MicroCore
import Synchronization

/// One direction of a memory stream: a queue of messages from a sender to a receiver.
///
/// The sender appends and finally closes; the receiver takes messages in order, then
/// `nil` once the sender closed. When the connection goes away the pipe fails: waiting
/// and later receives throw the failure (after what was already queued).
final class MemoryPipe: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<TransportMessage?, any Error>
    }

    private struct State {
        var queue: [TransportMessage] = []
        var head = 0
        var senderClosed = false
        var failure: TransportError?
        /// The stream was reset: what the receiver and the sender then get, before
        /// anything else.
        var reset: (receiver: TransportError, sender: TransportError)?
        var waiters: [Waiter] = []
        var nextWaiter: UInt64 = 0

        mutating func pop() -> TransportMessage? {
            guard head < queue.count else { return nil }
            let message = queue[head]
            head += 1
            if head > 64, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return message
        }
    }

    private let state = Mutex(State())

    init() {}

    /// Whether the sender has closed.
    var isSenderClosed: Bool {
        state.withLock { $0.senderClosed }
    }

    /// Queues `message` for the receiver.
    func send(_ message: TransportMessage) throws(TransportError) {
        let waiter: Waiter? = try state.withLock { (state) throws(TransportError) -> Waiter? in
            if let reset = state.reset { throw reset.sender }
            if let failure = state.failure { throw failure }
            if state.senderClosed { throw TransportError(.streamClosed, "memory transport: send after close") }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.queue.append(message)
            return nil
        }
        waiter?.continuation.resume(returning: message)
    }

    /// Marks the end of the sender's messages; returns whether this call closed it.
    /// Nothing once the pipe failed or was reset: the receiver keeps that error.
    @discardableResult
    func closeSending() -> Bool {
        let (waiters, closed) = state.withLock { state -> ([Waiter], Bool) in
            guard !state.senderClosed, state.failure == nil, state.reset == nil else { return ([], false) }
            state.senderClosed = true
            defer { state.waiters = [] }
            return (state.waiters, true)
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        return closed
    }

    /// Fails the pipe: the receiver gets `error` after what was queued, unless the sender
    /// had already closed; the sender's next send throws it.
    func fail(_ error: TransportError) {
        let waiters = state.withLock { state -> [Waiter] in
            guard state.failure == nil else { return [] }
            state.failure = error
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: error) }
    }

    /// Resets the pipe: queued messages are dropped, the receiver's waiting and later
    /// receives throw `receiverError`, the sender's sends `senderError`.
    func reset(receiverError: TransportError, senderError: TransportError) {
        let waiters = state.withLock { state -> [Waiter] in
            guard state.reset == nil else { return [] }
            state.reset = (receiverError, senderError)
            state.queue = []
            state.head = 0
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: receiverError) }
    }

    /// The next message, `nil` after the sender closed.
    func receive() async throws -> TransportMessage? {
        enum Immediate {
            case message(TransportMessage?)
            case failure(TransportError)
            case wait
        }
        let immediate = state.withLock { state -> Immediate in
            if let reset = state.reset { return .failure(reset.receiver) }
            if let message = state.pop() { return .message(message) }
            if state.senderClosed { return .message(nil) }
            if let failure = state.failure { return .failure(failure) }
            return .wait
        }
        switch immediate {
        case .message(let message): return message
        case .failure(let failure): throw failure
        case .wait: break
        }
        let id = state.withLock { state in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TransportMessage?, any Error>) in
                enum Outcome {
                    case message(TransportMessage?)
                    case failure(any Error)
                    case waiting
                }
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let reset = state.reset { return .failure(reset.receiver) }
                    if let message = state.pop() { return .message(message) }
                    if state.senderClosed { return .message(nil) }
                    if let failure = state.failure { return .failure(failure) }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .waiting
                }
                switch outcome {
                case .message(let message): continuation.resume(returning: message)
                case .failure(let error): continuation.resume(throwing: error)
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
