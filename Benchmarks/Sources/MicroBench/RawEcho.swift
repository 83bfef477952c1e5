import NIOCore
import NIOPosix

/// The limit: an echo over TCP with a 4-byte big-endian length prefix, written with
/// SwiftNIO directly. The server writes every frame back as it came and flushes once per
/// read; the client pipelines requests on a few connections and matches answers in order.
enum RawEcho {
    /// Binds `127.0.0.1:0` and returns the server channel.
    static func serve() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthPrefixedFrameDecoder()), EchoHandler(),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// A client with `connections` connections to `host:port`, used in turn by worker.
    struct Client: Sendable {
        let channels: [any Channel]

        static func connect(host: String, port: Int, connections: Int) async throws -> Client {
            var channels: [any Channel] = []
            for _ in 0..<max(1, connections) {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers([
                                ByteToMessageHandler(LengthPrefixedFrameDecoder()), RequestResponseHandler(),
                            ])
                        }
                    }
                    .connect(host: host, port: port)
                    .get()
                channels.append(channel)
            }
            return Client(channels: channels)
        }

        /// Sends `payload` and waits for it to come back.
        func call(_ payload: ByteBuffer, worker: Int) async throws -> ByteBuffer {
            let channel = channels[worker % channels.count]
            let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
            channel.writeAndFlush(Request(payload: payload, promise: promise), promise: nil)
            return try await promise.futureResult.get()
        }
    }

    /// One outgoing call: its payload and where its answer goes.
    struct Request: Sendable {
        var payload: ByteBuffer
        var promise: EventLoopPromise<ByteBuffer>
    }

    /// Splits the byte stream into frames, each passed on with its length prefix.
    struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                let frame = buffer.readSlice(length: 4 + Int(length))
            else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(frame))
            return .continue
        }
    }

    /// Writes every frame back; flushes once per read.
    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// Frames requests and completes their promises with the answers, in order.
    final class RequestResponseHandler: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = Request
        typealias OutboundOut = ByteBuffer

        private var pending = CircularBuffer<EventLoopPromise<ByteBuffer>>()

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let request = unwrapOutboundIn(data)
            pending.append(request.promise)
            var frame = context.channel.allocator.buffer(capacity: 4 + request.payload.readableBytes)
            frame.writeInteger(UInt32(request.payload.readableBytes))
            frame.writeImmutableBuffer(request.payload)
            context.write(wrapOutboundOut(frame), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var frame = unwrapInboundIn(data)
            frame.moveReaderIndex(forwardBy: 4)
            guard !pending.isEmpty else { return }
            pending.removeFirst().succeed(frame)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failAll(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            failAll(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }

        private func failAll(_ error: any Error) {
            while let promise = pending.popFirst() { promise.fail(error) }
        }
    }
}
