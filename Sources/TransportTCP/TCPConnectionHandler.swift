import Logging
import MicroCore
import NIOCore

/// The last handler of a connection's pipeline: routes decoded frames to streams, times
/// out stalled frames, and turns errors and closure into ``TransportError``s.
///
/// Pipeline: `ByteToMessageHandler(TCPFrameDecoder)` → `TCPConnectionHandler`. Outbound
/// frames are encoded by the callers and written as `ByteBuffer`s straight to the channel.
final class TCPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = TCPFrame

    private let connection: TCPConnection
    private let decoder: TCPFrameDecoder
    private let frameTimeout: TimeAmount
    private var logger: Logger
    /// Fires when a partly received frame is not complete in time.
    private var frameTimer: Scheduled<Void>?
    /// `decoder.framesDecoded` when the timer was started.
    private var frameTimerBaseline: UInt64 = 0
    /// Why this side closes the connection, once it decided to.
    private var closeReason: TransportError?
    /// Streams opened by frames of the current read, dispatched when the read completes.
    private var opened: [TCPStream] = []

    /// Creates the handler.
    init(connection: TCPConnection, decoder: TCPFrameDecoder) {
        self.connection = connection
        self.decoder = decoder
        self.frameTimeout = TimeAmount(connection.configuration.frameTimeout)
        self.logger = connection.configuration.logger
        self.logger[metadataKey: "peer"] = "\(connection.address)"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            if let stream = try connection.receive(frame) { opened.append(stream) }
        } catch {
            reject(context: context, reason: error.reason)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !opened.isEmpty {
            if closeReason == nil { connection.dispatch(opened) }
            opened.removeAll(keepingCapacity: true)
        }
        if decoder.isMidFrame {
            if frameTimer == nil || frameTimerBaseline != decoder.framesDecoded {
                startFrameTimer(context: context)
            }
        } else if let timer = frameTimer {
            timer.cancel()
            frameTimer = nil
        }
        context.fireChannelReadComplete()
    }

    private func startFrameTimer(context: ChannelHandlerContext) {
        frameTimer?.cancel()
        frameTimerBaseline = decoder.framesDecoded
        let timeout = frameTimeout
        frameTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            frameTimer = nil
            guard decoder.isMidFrame else { return }
            if decoder.framesDecoded != frameTimerBaseline {
                startFrameTimer(context: context)
                return
            }
            reject(context: context, reason: "sent part of a frame and then nothing for \(connection.configuration.frameTimeout)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TCPFrameError {
            reject(context: context, reason: error.reason)
        } else {
            if closeReason == nil {
                logger.debug("connection error", metadata: ["error": "\(error)"])
                closeReason = TransportError(.connectionClosed, "\(connection.name) broke: \(error)")
            }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        frameTimer?.cancel()
        frameTimer = nil
        // Frames decoded at the end of input come without a read-complete.
        if !opened.isEmpty, closeReason == nil { connection.dispatch(opened) }
        opened = []
        connection.fail(closeReason ?? TransportError(.connectionClosed, "\(connection.name) was closed by the peer"))
        context.fireChannelInactive()
    }

    /// Logs why the peer's input is rejected, fails its streams, and closes the connection.
    private func reject(context: ChannelHandlerContext, reason: String) {
        guard closeReason == nil else { return }
        logger.warning("closing TCP \(connection.name): \(reason)", metadata: ["reason": "\(reason)"])
        let error = TransportError(.connectionClosed, "\(connection.name) was closed: \(reason)")
        closeReason = error
        connection.fail(error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TCPConnectionHandler: Sendable {}
