import Logging
import MicroCore
import NIOCore
import Synchronization

/// One TCP connection and the streams multiplexed on it; the client's
/// ``TransportConnection`` and the server's per-peer state alike.
///
/// Threading: the event loop delivers frames (``receive(_:)``) and flushes writes;
/// callers' tasks open streams and queue frames. A `Mutex` guards the stream table, the
/// write queue and the closed state; it is never held across a suspension or while
/// resuming a continuation.
///
/// Writes are batched: ``write(_:_:)`` appends the encoded frame to a
/// ``TCPWriteQueue`` and, when no flush is scheduled yet, schedules one on the event
/// loop, which writes everything queued by then and flushes once (one pipeline write and
/// one system call for many frames under load).
final class TCPConnection: TransportConnection, Sendable {
    /// Which end of the connection this is.
    enum Role: Sendable {
        /// Dialled: opens streams, closes itself when idle.
        case client
        /// Accepted: streams are opened by the peer's first frame.
        case server
    }

    private struct State {
        var channel: (any Channel)?
        var streams = TCPStreamTable()
        var lastStreamID: UInt32 = 0
        /// Frames queued for the next flush.
        var writes = TCPWriteQueue()
        var flushScheduled = false
        var failure: TransportError?
        var idleSince = NIODeadline.now()
        var idleTimer: Scheduled<Void>?
        /// Receives waiting with a deadline, behind one timer.
        var deadlines = TCPDeadlineQueue()
    }

    /// The dialled address (client) or the peer's address (server).
    let address: String
    /// Which end this is.
    let role: Role
    /// The transport's configuration.
    let configuration: TCPTransport.Configuration
    /// Called on the event loop with each stream the peer opens (server).
    private let onStream: (@Sendable (TCPStream) -> Void)?
    private let state = Mutex(State())

    /// Creates a connection; ``install(on:)`` attaches it to its channel.
    init(role: Role, address: String, configuration: TCPTransport.Configuration,
         onStream: (@Sendable (TCPStream) -> Void)? = nil) {
        self.role = role
        self.address = address
        self.configuration = configuration
        self.onStream = onStream
    }

    /// Adds the connection handler to `channel`'s pipeline (on its loop).
    func install(on channel: any Channel) throws {
        state.withLock { $0.channel = channel }
        try channel.pipeline.syncOperations.addHandler(TCPConnectionHandler(connection: self))
    }

    /// A description for logs and errors: `connection to 127.0.0.1:8080`.
    var name: String {
        role == .client ? "connection to \(address)" : "connection from \(address)"
    }

    // MARK: TransportConnection

    /// The number of streams not yet released (for tests and diagnostics).
    var streamCount: Int {
        state.withLock { $0.streams.count }
    }

    var isOpen: Bool {
        state.withLock { $0.failure == nil }
    }

    func openStream() async throws -> any TransportStream {
        try openStreamNow()
    }

    /// Opens a stream and queues the request with its end of stream without suspending;
    /// only the wait for the answer suspends, on one continuation that the event loop
    /// resumes (or the connection's deadline queue fails at `deadline`). A missed
    /// deadline or a cancelled task resets the stream (``TCPStream/receive(deadline:)``),
    /// so neither side keeps it.
    func roundTrip(_ request: TransportMessage, before deadline: ContinuousClock.Instant?) async throws -> TransportMessage? {
        let stream = try openStreamNow()
        do {
            try stream.sendNow(request, endOfStream: true)
        } catch {
            // Nothing reached the peer (or the connection broke and dropped every stream).
            release(stream)
            throw error
        }
        return try await stream.receive(deadline: deadline.continuousTime)
    }

    /// Allocates a stream id and registers the stream.
    func openStreamNow() throws(TransportError) -> TCPStream {
        let result = state.withLock { state -> Result<TCPStream, TransportError> in
            if let failure = state.failure { return .failure(failure) }
            var id = state.lastStreamID
            repeat { id &+= 1 } while id == 0 || state.streams[id] != nil
            state.lastStreamID = id
            let stream = TCPStream(id: id, connection: self)
            state.streams.insert(stream, for: id)
            return .success(stream)
        }
        return try result.get()
    }

    func close() async {
        let channel = shutDown(TransportError(.connectionClosed, "\(name) was closed by this side"))
        try? await channel?.close()
    }

    /// Fails the connection with `error` and returns the channel to close.
    func shutDown(_ error: TransportError) -> (any Channel)? {
        fail(error)
        return state.withLock { $0.channel }
    }

    // MARK: Writing

    /// Queues encoded frame bytes (`body` follows `head` when present) for the event loop.
    ///
    /// - Throws: ``TransportError`` when the connection is gone.
    func write(_ head: ByteBuffer, _ body: ByteBuffer?) throws(TransportError) {
        let outcome = state.withLock { state -> Result<(any Channel)?, TransportError> in
            if let failure = state.failure { return .failure(failure) }
            state.writes.append(head, body: body)
            if state.flushScheduled { return .success(nil) }
            state.flushScheduled = true
            return .success(state.channel)
        }
        guard let channel = try outcome.get() else { return }
        channel.eventLoop.execute { self.flushPending() }
    }

    /// Writes every queued frame and flushes once (on the event loop).
    private func flushPending() {
        let (writes, channel) = state.withLock { state in
            state.flushScheduled = false
            return (state.writes.take(), state.channel)
        }
        guard let channel, let (first, rest) = writes else { return }
        // `NIOAny` made here is specialised for `ByteBuffer`; `Channel.write(_:)` would
        // box each buffer generically and cast it back in the pipeline.
        let pipeline = channel.pipeline.syncOperations
        pipeline.write(NIOAny(first), promise: nil)
        for buffer in rest { pipeline.write(NIOAny(buffer), promise: nil) }
        pipeline.flush()
    }

    // MARK: Receive deadlines

    /// A receive's place in the connection's deadline queue; cancel it once the receive
    /// is over.
    struct DeadlineToken: Sendable {
        let connection: TCPConnection
        let token: UInt64

        /// Takes the receive out of the queue.
        func cancel() {
            connection.state.withLock { $0.deadlines.remove(token) }
        }
    }

    /// Fails the receive `waiterID` of `stream` at `deadline` (through
    /// ``TCPStream/expire(_:)``) unless the token is cancelled first; `nil` when the
    /// connection is gone, which fails the receive anyway.
    func expire(_ stream: TCPStream, waiterID: UInt64, at deadline: ContinuousTime) -> DeadlineToken? {
        let added = state.withLock { state -> (token: UInt64, arm: (generation: UInt64, eventLoop: any EventLoop)?)? in
            guard state.failure == nil, let channel = state.channel else { return nil }
            let (token, arm) = state.deadlines.add(deadline, streamID: stream.id, waiterID: waiterID)
            // The event loop only when a timer must be armed: most deadlines come after
            // the armed one.
            return (token, arm.map { ($0, channel.eventLoop) })
        }
        guard let added else { return nil }
        if let arm = added.arm { armDeadlineTimer(on: arm.eventLoop, at: deadline, generation: arm.generation) }
        return DeadlineToken(connection: self, token: added.token)
    }

    private func armDeadlineTimer(on eventLoop: any EventLoop, at deadline: ContinuousTime, generation: UInt64) {
        let delay = TimeAmount(max(.zero, deadline - .now))
        _ = try? eventLoop.scheduleCallback(in: delay, handler: DeadlineQueueTimer(connection: self, generation: generation))
    }

    /// Expires the receives that are due and arms the next timer (on the event loop).
    private func fireDeadlines(generation: UInt64, on eventLoop: any EventLoop) {
        let (due, next) = state.withLock { state in
            let (due, next) = state.deadlines.fire(generation: generation, now: .now)
            // A stream that is gone has no receive left to fail.
            return (due.compactMap { entry in state.streams[entry.streamID].map { ($0, entry.waiterID) } }, next)
        }
        if let next { armDeadlineTimer(on: eventLoop, at: next.deadline, generation: next.generation) }
        for (stream, waiterID) in due { stream.expire(waiterID) }
    }

    /// The timer of the deadline queue; a scheduled callback rather than a scheduled
    /// task, which would allocate a promise and a closure.
    private struct DeadlineQueueTimer: NIOScheduledCallbackHandler, Sendable {
        let connection: TCPConnection
        let generation: UInt64

        func handleScheduledCallback(eventLoop: some EventLoop) {
            connection.fireDeadlines(generation: generation, on: eventLoop)
        }
    }

    // MARK: Reading (event loop)

    /// Routes a frame from the peer to its stream, opening the stream on a server.
    ///
    /// - Returns: the stream the frame opened (server), to hand to ``dispatch(_:)`` once
    ///   the frames of the current read are routed: a handler started mid-read could
    ///   finish and release its stream before a later frame of the same read that breaks
    ///   the stream's rules is seen.
    /// - Throws: ``TCPFrameError`` for frames that break the stream rules.
    func receive(_ frame: TCPFrame) throws(TCPFrameError) -> TCPStream? {
        let lookup = state.withLock { state -> (TCPStream, Bool)? in
            if let stream = state.streams[frame.streamID] { return (stream, false) }
            // A reset never opens a stream: it comes for one this side already released.
            guard role == .server, state.failure == nil, frame.kind != .reset else { return nil }
            let stream = TCPStream(id: frame.streamID, connection: self)
            state.streams.insert(stream, for: frame.streamID)
            return (stream, true)
        }
        guard let (stream, isNew) = lookup else {
            // A stream this client no longer tracks (it failed or was released): drop.
            configuration.logger.trace("dropping frame for unknown stream", metadata: [
                "peer": "\(address)", "stream": "\(frame.streamID)",
            ])
            return nil
        }
        switch frame.kind {
        case .message:
            try stream.deliver(frame.message)
        case .end:
            try stream.deliverEnd()
        case .reset:
            stream.deliverReset(code: frame.resetCode)
        }
        return isNew ? stream : nil
    }

    /// Starts the handling of streams the peer opened (server, on the event loop).
    func dispatch(_ streams: [TCPStream]) {
        guard let onStream else { return }
        for stream in streams { onStream(stream) }
    }

    /// Runs `body` on the connection's event loop (nothing when it has no channel).
    func execute(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.channel }?.eventLoop.execute(body)
    }

    /// Forgets a stream both sides have closed, or that was reset.
    func release(_ stream: TCPStream) {
        state.withLock { state in
            guard let current = state.streams[stream.id], current === stream else { return }
            state.streams.remove(stream.id)
            if state.streams.isEmpty { state.idleSince = .now() }
        }
    }

    /// Marks the connection broken and fails every stream on it; the first error wins.
    func fail(_ error: TransportError) {
        let streams = state.withLock { state -> [TCPStream] in
            guard state.failure == nil else { return [] }
            state.failure = error
            state.writes = TCPWriteQueue()
            state.deadlines.removeAll()
            state.idleTimer?.cancel()
            state.idleTimer = nil
            let streams = state.streams.values
            state.streams.removeAll()
            return streams
        }
        for stream in streams { stream.fail(error) }
    }

    // MARK: Idle timeout (client)

    /// Starts closing the connection after `idleTimeout` without an open stream.
    func startIdleTimer() {
        guard role == .client, configuration.idleTimeout > .zero else { return }
        let timeout = TimeAmount(configuration.idleTimeout)
        state.withLock { state in
            guard state.failure == nil, let channel = state.channel else { return }
            state.idleSince = .now()
            state.idleTimer = channel.eventLoop.scheduleTask(in: timeout) { self.checkIdle() }
        }
    }

    /// Closes the connection when it has been idle long enough, else checks again later.
    private func checkIdle() {
        let timeout = TimeAmount(configuration.idleTimeout)
        let channel = state.withLock { state -> (any Channel)? in
            guard state.failure == nil, let channel = state.channel else { return nil }
            let now = NIODeadline.now()
            if state.streams.isEmpty, now - state.idleSince >= timeout {
                // Decided under the lock, so no stream can open in between.
                state.failure = TransportError(
                    .connectionClosed, "\(name) was closed after \(configuration.idleTimeout) without an open stream")
                state.idleTimer = nil
                return channel
            }
            let next = state.streams.isEmpty ? state.idleSince + timeout : now + timeout
            state.idleTimer = channel.eventLoop.scheduleTask(deadline: next) { self.checkIdle() }
            return nil
        }
        guard let channel else { return }
        configuration.logger.debug("closing idle connection", metadata: ["peer": "\(address)"])
        channel.close(promise: nil)
    }
}
