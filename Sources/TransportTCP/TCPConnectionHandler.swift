import Logging
import MicroCore
import NIOCore

/// The connection's only handler: splits the inbound bytes into frames, routes them to
/// streams, times out stalled frames, and turns errors and closure into
/// ``TransportError``s.
///
/// Frames are decoded here with ``TCPFrameDecoder/decodeFrame(from:maxFrameSize:)``
/// rather than by a `ByteToMessageHandler` in front: passing each decoded frame down the
/// pipeline would box it in an `NIOAny` and cast it back, an allocation and a dynamic cast
/// per frame. Outbound frames are encoded by the callers and written as `ByteBuffer`s
/// straight to the channel.
final class TCPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: TCPConnection
    private let maxFrameSize: Int
    private let frameTimeout: TimeAmount
    private var logger: Logger
    /// The start of a frame whose rest has not arrived yet, in a buffer of its own sized
    /// for the whole frame (or ``partialFrameReservation``, doubling as the bytes of a
    /// larger one arrive); `nil` between frames.
    private var partialFrame: ByteBuffer?
    /// How many frames were decoded so far.
    private var framesDecoded: UInt64 = 0
    /// Fires when a partly received frame is not complete in time.
    private var frameTimer: Scheduled<Void>?
    /// `framesDecoded` when the timer was started.
    private var frameTimerBaseline: UInt64 = 0
    /// Why this side closes the connection, once it decided to.
    private var closeReason: TransportError?
    /// Streams opened by frames of the current read, dispatched when the read completes.
    private var opened: [TCPStream] = []

    /// Creates the handler.
    init(connection: TCPConnection) {
        self.connection = connection
        self.maxFrameSize = connection.configuration.maxFrameSize
        self.frameTimeout = TimeAmount(connection.configuration.frameTimeout)
        self.logger = connection.configuration.logger
        self.logger[metadataKey: "peer"] = "\(connection.address)"
    }

    /// Whether part of a frame is waiting for the rest.
    private var isMidFrame: Bool {
        partialFrame != nil
    }

    /// The most a partly received frame reserves before its bytes arrive; a larger one
    /// grows as they do, so a length field alone cannot make a connection allocate much.
    static let partialFrameReservation = 256 * 1024

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeReason == nil else { return }
        var input = unwrapInboundIn(data)
        do {
            if partialFrame != nil {
                guard let frame = try completePartialFrame(from: &input) else { return }
                try deliver(frame)
            }
            while let frame = try TCPFrameDecoder.decodeFrame(from: &input, maxFrameSize: maxFrameSize) {
                try deliver(frame)
            }
            if input.readableBytes > 0 { try keepPartialFrame(input, allocator: context.channel.allocator) }
        } catch {
            reject(context: context, reason: error.reason)
        }
    }

    /// Hands a decoded frame to the connection; a stream it opens starts when the read
    /// completes.
    private func deliver(_ frame: TCPFrame) throws(TCPFrameError) {
        framesDecoded &+= 1
        if let stream = try connection.receive(frame) { opened.append(stream) }
    }

    /// Copies the start of a frame out of the receive buffer, into a buffer sized for
    /// the whole frame.
    ///
    /// Only these bytes are copied: the frames before them stay slices of the receive
    /// buffer, and the bytes that complete the frame are appended without reallocating.
    /// The receive buffer is not kept, so a slow large frame does not pin what came
    /// before it.
    private func keepPartialFrame(_ input: ByteBuffer, allocator: ByteBufferAllocator) throws(TCPFrameError) {
        let size = try TCPFrameDecoder.frameSize(of: input, maxFrameSize: maxFrameSize) ?? 4
        var partial = allocator.buffer(capacity: min(size, TCPConnectionHandler.partialFrameReservation))
        partial.writeImmutableBuffer(input)
        partialFrame = partial
    }

    /// Appends to the partly received frame the bytes of `input` that belong to it, and
    /// returns the frame once it is whole; the rest of `input` is left for the next frames.
    private func completePartialFrame(from input: inout ByteBuffer) throws(TCPFrameError) -> TCPFrame? {
        guard var partial = partialFrame.take() else { return nil }
        if partial.readableBytes < 4 {
            // The length field itself came in pieces.
            var piece = input.readSlice(length: min(4 - partial.readableBytes, input.readableBytes))!
            partial.writeBuffer(&piece)
        }
        guard let size = try TCPFrameDecoder.frameSize(of: partial, maxFrameSize: maxFrameSize) else {
            partialFrame = partial
            return nil
        }
        let held = partial.readableBytes + min(size - partial.readableBytes, input.readableBytes)
        if held > partial.capacity {
            // Doubling from the up-front reservation: a frame many reads long is moved a
            // few times, not once per read.
            partial.reserveCapacity(min(size, max(held, 2 * partial.capacity, TCPConnectionHandler.partialFrameReservation)))
        }
        var rest = input.readSlice(length: min(size - partial.readableBytes, input.readableBytes))!
        partial.writeBuffer(&rest)
        guard let frame = try TCPFrameDecoder.decodeFrame(from: &partial, maxFrameSize: maxFrameSize) else {
            partialFrame = partial
            return nil
        }
        return frame
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !opened.isEmpty {
            // Handlers start right here and may close the channel, which runs
            // `channelInactive` before `dispatch` returns: take the streams out first so
            // that it cannot start them again. The array's storage is reused.
            var streams: [TCPStream] = []
            swap(&streams, &opened)
            if closeReason == nil { connection.dispatch(streams) }
            streams.removeAll(keepingCapacity: true)
            if opened.isEmpty { opened = streams }
        }
        if isMidFrame {
            if frameTimer == nil || frameTimerBaseline != framesDecoded {
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
        frameTimerBaseline = framesDecoded
        let timeout = frameTimeout
        frameTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            frameTimer = nil
            guard isMidFrame else { return }
            if framesDecoded != frameTimerBaseline {
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
        if let partial = partialFrame.take(), closeReason == nil {
            let reason = "connection ended in the middle of a frame (\(partial.readableBytes) bytes of an incomplete frame)"
            logger.warning("closing TCP \(connection.name): \(reason)", metadata: ["reason": "\(reason)"])
            closeReason = TransportError(.connectionClosed, "\(connection.name) was closed: \(reason)")
        }
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
