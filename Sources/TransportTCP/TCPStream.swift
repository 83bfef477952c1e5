import MicroCore
import NIOCore
import Synchronization

/// One stream (call) on a ``TCPConnection``, on either side.
///
/// Inbound messages are buffered per stream until ``receive()`` takes them. The buffer is
/// unbounded for now: there is no flow control, so a peer that sends faster than the
/// receiver reads grows it (a single frame is still bounded by `maxFrameSize`).
///
/// The event loop delivers frames with ``deliver(_:)``, ``deliverEnd()`` and
/// ``deliverReset(code:)``; callers' tasks wait in ``receive()`` on a continuation,
/// resumed by the event loop directly.
///
/// A reset (``reset()``, a receive that misses its deadline, a client receive whose task
/// is cancelled, or the peer's reset frame) fails the stream on this side with
/// ``MicroCore/TransportError/Code/streamReset``, releases it from the connection, and
/// on a server cancels the handler's task.
final class TCPStream: TransportStream, Sendable {
    /// A receive waiting for a message, with its place in the connection's deadline
    /// queue if it has a deadline.
    private struct Waiter {
        var id: UInt64
        var continuation: UnsafeContinuation<TransportMessage?, any Error>
        var timer: TCPConnection.DeadlineToken?

        /// Cancels the timer and resumes the receive.
        func resume(returning message: TransportMessage?) {
            timer?.cancel()
            continuation.resume(returning: message)
        }

        /// Cancels the timer and fails the receive.
        func resume(throwing error: any Error) {
            timer?.cancel()
            continuation.resume(throwing: error)
        }
    }

    /// Messages not yet received, in order. The first is kept inline: most streams
    /// carry one message each way, and an empty queue allocates nothing.
    private struct Inbound {
        /// The oldest message.
        private(set) var first: TransportMessage?
        /// The messages after `first`; created for a second buffered message.
        private var rest: CircularBuffer<TransportMessage>?

        /// Appends a message.
        mutating func append(_ message: TransportMessage) {
            if first == nil {
                first = message
            } else {
                if rest == nil { rest = CircularBuffer(initialCapacity: 4) }
                rest!.append(message)
            }
        }

        /// Takes the oldest message.
        mutating func popFirst() -> TransportMessage? {
            guard let message = first else { return nil }
            first = rest?.popFirst()
            return message
        }

        /// Drops every message.
        mutating func removeAll() {
            first = nil
            rest = nil
        }
    }

    /// The receives waiting for a message, oldest first. The first is kept inline: a
    /// stream rarely has more than one reader.
    private struct Waiters {
        private var first: Waiter?
        /// The waiters after `first`.
        private var rest: [Waiter] = []

        /// Adds a waiter at the end.
        mutating func append(_ waiter: Waiter) {
            if first == nil { first = waiter } else { rest.append(waiter) }
        }

        /// Takes the oldest waiter.
        mutating func removeFirst() -> Waiter? {
            guard let waiter = first else { return nil }
            first = rest.isEmpty ? nil : rest.removeFirst()
            return waiter
        }

        /// Takes the waiter `id`, if it is still waiting.
        mutating func remove(id: UInt64) -> Waiter? {
            if let waiter = first, waiter.id == id { return removeFirst() }
            guard let index = rest.firstIndex(where: { $0.id == id }) else { return nil }
            return rest.remove(at: index)
        }

        /// Takes every waiter.
        mutating func removeAll() -> [Waiter] {
            guard let first else { return [] }
            let all = [first] + rest
            self = Waiters()
            return all
        }
    }

    private struct State {
        var inbound = Inbound()
        var waiters = Waiters()
        var nextWaiterID: UInt64 = 0
        /// A receive whose deadline passed before it registered as a waiter: it fails at
        /// once.
        var expiredBeforeWaiting: UInt64?
        /// The peer sent its end of stream.
        var remoteClosed = false
        /// This side sent its end of stream.
        var localClosed = false
        /// Nobody reads any more (the server handler returned, or the stream was reset):
        /// drop inbound messages.
        var discardInbound = false
        /// Either side reset the stream; `failure` says which. A reset stream's receives
        /// fail even after the peer's end of stream.
        var reset = false
        /// The connection broke.
        var failure: TransportError?

        /// Fails the stream as reset with `error`: no more sends, receives or inbound
        /// messages.
        mutating func markReset(_ error: TransportError) {
            reset = true
            failure = error
            localClosed = true
            discardInbound = true
            inbound.removeAll()
        }

        /// Marks this side closed; `nil` when it already was, else whether the stream
        /// can be released (the peer closed too, or the connection broke).
        mutating func markLocalClosed() -> Bool? {
            if localClosed { return nil }
            localClosed = true
            return remoteClosed || failure != nil
        }
    }

    /// The stream id on the wire.
    let id: UInt32
    /// The connection carrying the stream.
    let connection: TCPConnection
    private let state = Mutex(State())
    /// The task running the server's handler of this stream, to cancel when the peer
    /// resets it.
    ///
    /// Only the connection's event loop reads or writes it (``attachHandler(_:)`` from
    /// the listener's dispatch, ``deliverReset(code:)`` from the frame decoder), so it
    /// needs no lock: a lock here would cost every call one more acquisition.
    nonisolated(unsafe) private var handlerTask: Task<Void, Never>?
    /// Whether the peer's reset arrived before the handler task was attached (event
    /// loop only, as `handlerTask`).
    nonisolated(unsafe) private var resetByPeer = false

    /// Creates a stream.
    init(id: UInt32, connection: TCPConnection) {
        self.id = id
        self.connection = connection
    }

    // MARK: TransportStream

    func send(_ message: TransportMessage) async throws {
        try sendNow(message)
    }

    /// Sends `message` and, with `endOfStream`, the end-of-stream frame in the same write.
    func send(_ message: TransportMessage, endOfStream: Bool) async throws {
        try sendNow(message, endOfStream: endOfStream)
    }

    /// Encodes and queues `message` (and with `endOfStream` the end of stream right after
    /// it) without suspending.
    func sendNow(_ message: TransportMessage, endOfStream: Bool = false) throws(TransportError) {
        let (head, body) = try TCPFrameEncoder.encodeMessage(
            message, streamID: id, maxFrameSize: connection.configuration.maxFrameSize, endOfStream: endOfStream)
        // One lock checks the stream and, with `endOfStream`, marks this side closed
        // before the frames are queued, so a concurrent `close()` queues no second end.
        let outcome = state.withLock { state -> Result<Bool, TransportError> in
            if let failure = state.failure { return .failure(failure) }
            if state.localClosed {
                return .failure(TransportError(
                    .streamClosed, "stream \(id) to \(connection.address) was already closed by this side"))
            }
            guard endOfStream else { return .success(false) }
            state.localClosed = true
            return .success(state.remoteClosed)
        }
        let release = try outcome.get()
        try connection.write(head, body)
        if endOfStream, body != nil { try connection.write(TCPFrameEncoder.encodeEnd(streamID: id), nil) }
        if release { connection.release(self) }
    }

    func receive() async throws -> TransportMessage? {
        try await receive(deadline: nil)
    }

    /// Waits at most until `deadline`: the connection's deadline queue fails the waiting
    /// receive from a timer on its event loop, so no helper task is needed. A missed
    /// deadline resets the stream.
    func receive(before deadline: ContinuousClock.Instant) async throws -> TransportMessage? {
        try await receive(deadline: ContinuousTime(deadline))
    }

    /// The next message, failing with ``TransportDeadlineExceeded`` at `deadline`; the
    /// stream is then reset, as it is when a client's task is cancelled while it waits.
    func receive(deadline: ContinuousTime?) async throws -> TransportMessage? {
        enum Fast {
            case message(TransportMessage)
            case end
            case failure(TransportError)
            case wait(UInt64)
        }
        // One lock for the common cases: a message is already buffered, or we must wait.
        let fast = state.withLock { state -> Fast in
            if let message = state.inbound.popFirst() { return .message(message) }
            if state.remoteClosed, !state.reset { return .end }
            if let failure = state.failure { return .failure(failure) }
            state.nextWaiterID &+= 1
            return .wait(state.nextWaiterID)
        }
        let waiterID: UInt64
        switch fast {
        case .message(let message): return message
        case .end: return nil
        case .failure(let failure): throw failure
        case .wait(let id): waiterID = id
        }
        // Scheduled before the waiter is registered; if it fires first, the deadline has
        // passed and registration below sees that.
        var timer: TCPConnection.DeadlineToken?
        if let deadline {
            guard deadline > .now else {
                resetNow(.deadlineExceeded)
                throw TransportDeadlineExceeded()
            }
            timer = connection.expire(self, waiterID: waiterID, at: deadline)
        }
        // Abandoned (deadline, or a client task cancelled): tell the peer, forget the
        // stream here. Caught in this frame, not a helper's: no async frame per call.
        do {
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<TransportMessage?, any Error>) in
                    enum Now {
                        case message(TransportMessage)
                        case end
                        case failure(any Error)
                        case waiting
                    }
                    let now = state.withLock { state -> Now in
                        if let message = state.inbound.popFirst() { return .message(message) }
                        if state.remoteClosed, !state.reset { return .end }
                        if let failure = state.failure { return .failure(failure) }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        // The timer armed above fails the receive at the deadline, also when
                        // it fired before this registration.
                        if state.expiredBeforeWaiting == waiterID { return .failure(TransportDeadlineExceeded()) }
                        state.waiters.append(Waiter(id: waiterID, continuation: continuation, timer: timer))
                        return .waiting
                    }
                    switch now {
                    case .message(let message):
                        timer?.cancel()
                        continuation.resume(returning: message)
                    case .end:
                        timer?.cancel()
                        continuation.resume(returning: nil)
                    case .failure(let error):
                        timer?.cancel()
                        continuation.resume(throwing: error)
                    case .waiting: break
                    }
                }
            } onCancel: {
                removeWaiter(waiterID)?.resume(throwing: CancellationError())
            }
        } catch is TransportDeadlineExceeded {
            resetNow(.deadlineExceeded)
            throw TransportDeadlineExceeded()
        } catch let error as CancellationError {
            // A server handler is cancelled by a reset or by its own deadline, and may
            // still answer: only a client gives the call up.
            if connection.role == .client { resetNow(.cancelled) }
            throw error
        }
    }

    /// Fails the receive waiting as `waiterID` because its deadline passed (called by the
    /// connection's deadline queue).
    func expire(_ waiterID: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiters.remove(id: waiterID) else {
                state.expiredBeforeWaiting = waiterID
                return nil
            }
            return waiter
        }
        waiter?.resume(throwing: TransportDeadlineExceeded())
    }

    /// Takes the waiter `waiterID` out, if it is still waiting.
    private func removeWaiter(_ waiterID: UInt64) -> Waiter? {
        state.withLock { $0.waiters.remove(id: waiterID) }
    }

    func close() async {
        closeLocal()
    }

    func reset() async {
        resetNow(.cancelled)
    }

    /// Resets the stream from this side: fails it here, sends a reset frame with `code`,
    /// and releases it; nothing once it ended on both sides, was reset or failed.
    func resetNow(_ code: TCPFrame.ResetCode) {
        let outcome = state.withLock { state -> ([Waiter], TransportError)? in
            guard !state.reset, state.failure == nil, !(state.localClosed && state.remoteClosed) else { return nil }
            let error = TransportError(.streamReset, "stream \(id) of the \(connection.name) was reset by this side")
            state.markReset(error)
            return (state.waiters.removeAll(), error)
        }
        guard let (waiters, error) = outcome else { return }
        // A broken connection has nobody to tell.
        try? connection.write(TCPFrameEncoder.encodeReset(streamID: id, code: code), nil)
        connection.release(self)
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// The peer reset the stream (on the event loop): fails it here, releases it, and
    /// cancels the server handler's task.
    func deliverReset(code: UInt32) {
        resetByPeer = true
        let outcome = state.withLock { state -> ([Waiter], TransportError)? in
            guard !state.reset, state.failure == nil else { return nil }
            let error = TransportError(
                .streamReset, "stream \(id) of the \(connection.name) was reset by the peer: \(TCPFrame.ResetCode.describe(code))")
            state.markReset(error)
            return (state.waiters.removeAll(), error)
        }
        connection.release(self)
        if let (waiters, error) = outcome {
            for waiter in waiters { waiter.resume(throwing: error) }
        }
        handlerTask?.cancel()
    }

    /// Keeps the task running this stream's server handler, to cancel on a reset (on
    /// the event loop); cancels it at once when the peer's reset came first.
    func attachHandler(_ task: Task<Void, Never>) {
        if resetByPeer {
            task.cancel()
        } else {
            handlerTask = task
        }
    }

    // MARK: Connection side

    /// Sends end of stream once; releases the stream when the peer has closed too.
    func closeLocal() {
        sendEnd(releasing: state.withLock { $0.markLocalClosed() })
    }

    /// Sends the end of stream after ``State/markLocalClosed()`` said to (`release` not
    /// `nil`), and releases the stream when it can be.
    private func sendEnd(releasing release: Bool?) {
        guard let release else { return }
        // A broken connection has nobody to tell.
        try? connection.write(TCPFrameEncoder.encodeEnd(streamID: id), nil)
        if release { connection.release(self) }
    }

    /// Offers the first message to `immediate` (server, on the event loop); when it
    /// answers, sends the answer with the end of stream and finishes the stream as a
    /// returning handler would.
    ///
    /// - Returns: whether `immediate` answered; `false` leaves the stream untouched, its
    ///   first message still to be received.
    func answerImmediately(with immediate: (TransportMessage) -> TransportMessage?) -> Bool {
        guard let first = state.withLock({ $0.inbound.first }), let answer = immediate(first) else { return false }
        // A connection that broke meanwhile has nobody to answer; the stream is failed.
        try? sendNow(answer, endOfStream: true)
        finishHandler()
        return true
    }

    /// Called when the server's handler for this stream returned: closes this side and
    /// drops whatever the peer still sends on it.
    func finishHandler() {
        let release = state.withLock { state -> Bool? in
            state.discardInbound = true
            state.inbound.removeAll()
            return state.markLocalClosed()
        }
        sendEnd(releasing: release)
    }

    /// Delivers a message from the peer (on the event loop).
    ///
    /// - Throws: ``TCPFrameError`` when the peer already ended the stream.
    func deliver(_ message: TransportMessage) throws(TCPFrameError) {
        let outcome = state.withLock { state -> Result<Waiter?, TCPFrameError> in
            if state.remoteClosed {
                return .failure(TCPFrameError("message on stream \(id) after its end of stream"))
            }
            if state.discardInbound { return .success(nil) }
            if let waiter = state.waiters.removeFirst() { return .success(waiter) }
            state.inbound.append(message)
            return .success(nil)
        }
        try outcome.get()?.resume(returning: message)
    }

    /// Delivers the peer's end of stream (on the event loop); releases the stream when
    /// this side had closed too, before any waiting receive sees the end.
    ///
    /// - Throws: ``TCPFrameError`` when the peer already ended the stream.
    func deliverEnd() throws(TCPFrameError) {
        let outcome = state.withLock { state -> Result<([Waiter], Bool), TCPFrameError> in
            if state.remoteClosed {
                return .failure(TCPFrameError("second end of stream on stream \(id)"))
            }
            state.remoteClosed = true
            return .success((state.waiters.removeAll(), state.localClosed))
        }
        let (waiters, release) = try outcome.get()
        if release { connection.release(self) }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Fails pending and later receives and sends: the connection is gone.
    func fail(_ error: TransportError) {
        let waiters = state.withLock { state -> [Waiter] in
            guard state.failure == nil else { return [] }
            state.failure = error
            return state.waiters.removeAll()
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}
