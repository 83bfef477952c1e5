import Logging
import MicroCore
import NIOCore
import Synchronization

/// A bound TCP server socket: accepts connections and hands each stream a peer opens to
/// the handler given to ``serve(_:)``.
///
/// Each stream runs its handler in its own task (one task per stream, none per message).
/// The task starts *immediately* on the connection's event loop thread, once the read
/// that opened the stream is routed, and runs there until its first real suspension: a
/// handler that answers without waiting (the request is already buffered, and sending
/// only queues bytes) costs no thread hop at all, and its answer leaves in the write that
/// flushes the other answers of that read. After a suspension the task continues on the
/// global concurrent executor. A handler that computes for long before it first waits
/// holds up the other streams on that event loop meanwhile.
///
/// With ``serve(immediately:_:)``, the immediate handler is offered each stream's first
/// message before that: when it answers, the answer is queued right there, on the event
/// loop, and no task is started at all.
///
/// When the handler returns, the stream's side is closed (end of stream is sent if the
/// handler did not) and later messages on it are dropped. When the peer resets a stream
/// (its caller gave up), the stream's handler task is cancelled. Streams opened before `serve`
/// is called wait for it and start in ordinary tasks. Only the first call to `serve`
/// installs a handler; a later call just waits for ``close()`` like the first.
/// Cancelling the task running `serve` closes the listener.
final class TCPListener: TransportListener, Sendable {
    /// The handler given to ``serve(_:)``.
    ///
    /// Held in a struct so that the optional in ``State`` stores the closure as it is:
    /// an optional closure is kept at its most general representation, and every call
    /// through it would go through conversion thunks, two more async frames per stream.
    private struct Handler: Sendable {
        let run: @Sendable (any TransportStream) async -> Void
        /// Answers a stream's first message at once, or declines with `nil`.
        let immediate: (@Sendable (TransportMessage) -> TransportMessage?)?
    }

    private struct State {
        var handler: Handler?
        var waitingStreams: [TCPStream] = []
        var connections: [ObjectIdentifier: TCPConnection] = [:]
        var runningHandlers = 0
        var closed = false
        var serveWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// The bound server channel and its address, set once by ``attach(_:)``.
    private let bound = Mutex<(channel: (any Channel)?, address: String)>((nil, ""))
    private let configuration: TCPTransport.Configuration

    /// Creates a listener; the transport binds it and calls ``attach(_:)``.
    init(configuration: TCPTransport.Configuration) {
        self.configuration = configuration
    }

    /// Takes over the bound server channel.
    func attach(_ channel: any Channel) {
        let address = HostPort.format(channel.localAddress)
        bound.withLock { $0 = (channel, address) }
    }

    /// The bound address, `host:port` with the real port.
    var address: String {
        bound.withLock { $0.address }
    }

    /// The streams not yet released on the accepted connections (for tests and
    /// diagnostics).
    var streamCount: Int {
        state.withLock { Array($0.connections.values) }.reduce(0) { $0 + $1.streamCount }
    }

    /// Sets up an accepted child channel (on its event loop).
    func accept(_ channel: any Channel) throws {
        let peer = HostPort.format(channel.remoteAddress)
        let connection = TCPConnection(role: .server, address: peer, configuration: configuration) { [weak self] stream in
            self?.dispatch(stream)
        }
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.connections[ObjectIdentifier(connection)] = connection
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        if let layer = configuration.channelLayer { try addLayer(layer, to: channel, peer: peer) }
        try connection.install(on: channel)
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { state in state.connections[ObjectIdentifier(connection)] = nil }
        }
    }

    /// Adds the channel layer's handlers to an accepted channel, and closes it with a
    /// logged reason when the layer fails or is not ready within the frame timeout.
    private func addLayer(_ layer: any TCPChannelLayer, to channel: any Channel, peer: String) throws {
        let ready = try layer.addHandlers(to: channel, side: .accepting)
        let logger = configuration.logger
        let timeout = configuration.frameTimeout
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            logger.warning("closing TCP connection from \(peer): \(layer.name) not ready within \(timeout)", metadata: ["peer": "\(peer)"])
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in timer.cancel() }
        ready.whenComplete { result in
            timer.cancel()
            guard case .failure(let error) = result else { return }
            logger.warning("closing TCP connection from \(peer): \(layer.name) failed: \(error)", metadata: [
                "peer": "\(peer)", "error": "\(error)",
            ])
            channel.close(promise: nil)
        }
    }

    /// Starts the handler for a stream the peer opened (on the event loop).
    private func dispatch(_ stream: TCPStream) {
        let handler = state.withLock { state -> Handler? in
            guard !state.closed else { return nil }
            guard let handler = state.handler else {
                state.waitingStreams.append(stream)
                return nil
            }
            state.runningHandlers += 1
            return handler
        }
        guard let handler else { return }
        if let immediate = handler.immediate, stream.answerImmediately(with: immediate) {
            handlerFinished()
            return
        }
        // On the event loop: run the handler here until it first waits. The stream
        // keeps the task, to cancel it when the peer resets the stream.
        stream.attachHandler(Task.immediate { await self.run(handler, stream) })
    }

    /// Runs the handler of one stream, then closes the stream's side.
    private func run(_ handler: Handler, _ stream: TCPStream) async {
        await handler.run(stream)
        stream.finishHandler()
        handlerFinished()
    }

    private func handlerFinished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.runningHandlers -= 1
            guard state.closed, state.runningHandlers == 0 else { return [] }
            let waiters = state.serveWaiters
            state.serveWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: TransportListener

    func serve(_ handler: @escaping @Sendable (any TransportStream) async -> Void) async throws {
        try await serve(Handler(run: handler, immediate: nil))
    }

    func serve(
        immediately immediate: @escaping @Sendable (TransportMessage) -> TransportMessage?,
        _ handler: @escaping @Sendable (any TransportStream) async -> Void
    ) async throws {
        try await serve(Handler(run: handler, immediate: immediate))
    }

    private func serve(_ handler: Handler) async throws {
        let waiting = state.withLock { state -> [TCPStream] in
            guard !state.closed, state.handler == nil else { return [] }
            state.handler = handler
            state.runningHandlers += state.waitingStreams.count
            let waiting = state.waitingStreams
            state.waitingStreams = []
            return waiting
        }
        for stream in waiting {
            let task = Task { await self.run(handler, stream) }
            // `attachHandler` belongs to the event loop, which resets come from.
            stream.connection.execute { stream.attachHandler(task) }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if state.closed, state.runningHandlers == 0 { return true }
                    state.serveWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            _ = self.beginClose()
        }
    }

    /// Closes the server socket: new connections are refused, open ones keep serving.
    func stopAccepting() async {
        let server = bound.withLock { $0.channel }
        try? await server?.close()
    }

    func close() async {
        let channels = beginClose()
        for channel in channels {
            try? await channel.close()
        }
    }

    /// Stops accepting and closes every connection; returns the channels being closed.
    private func beginClose() -> [any Channel] {
        let (connections, waiters, wasClosed) = state.withLock {
            state -> ([TCPConnection], [CheckedContinuation<Void, Never>], Bool) in
            let wasClosed = state.closed
            state.closed = true
            let connections = Array(state.connections.values)
            state.connections = [:]
            state.waitingStreams = []
            var waiters: [CheckedContinuation<Void, Never>] = []
            if state.runningHandlers == 0 {
                waiters = state.serveWaiters
                state.serveWaiters = []
            }
            return (connections, waiters, wasClosed)
        }
        var channels: [any Channel] = []
        if !wasClosed, let server = bound.withLock({ $0.channel }) {
            server.close(promise: nil)
            channels.append(server)
        }
        for connection in connections {
            let error = TransportError(.connectionClosed, "\(connection.name) was closed: the listener at \(address) closed")
            if let channel = connection.shutDown(error) {
                channel.close(promise: nil)
                channels.append(channel)
            }
        }
        for waiter in waiters { waiter.resume() }
        return channels
    }
}
