public import Logging
public import MicroCore
public import NIOCore
public import NIOPosix

extension TCPTransport {
    /// How a ``TCPTransport`` frames, times out and schedules its connections.
    ///
    /// Plugin option keys (flags `--tcp_…`, environment `MICRO_TCP_…`) are listed in
    /// ``optionKeys``.
    public struct Configuration: Sendable {
        /// The largest frame accepted or sent, in bytes, counted after the 4-byte length
        /// prefix (stream id, kind, headers and body). Default 4 MiB (4,194,304).
        ///
        /// A peer that announces a longer frame is disconnected before anything is
        /// allocated; ``TransportStream/send(_:)`` of a larger message throws
        /// ``TransportError/Code/messageTooLarge``. Clamped to 64 ... 4 GiB − 1.
        public var maxFrameSize: Int
        /// How long a frame may take to arrive once its first byte is in: a peer that
        /// sends part of a frame and stalls for this long is disconnected, as is an
        /// accepted connection whose ``channelLayer`` is not ready in this time. Default
        /// 10 s.
        public var frameTimeout: Duration
        /// How long a client connection with no open stream stays open before it is
        /// closed. Default 60 s; zero or less never closes idle connections.
        public var idleTimeout: Duration
        /// The event loops that run the sockets. Default
        /// `MultiThreadedEventLoopGroup.singleton` (one loop per core, never shut down).
        public var eventLoopGroup: any EventLoopGroup
        /// Where connection events (malformed frames, timeouts) are logged. Default label
        /// `micro.transport.tcp`.
        public var logger: Logger
        /// Handlers every connection gets before the framing, such as TLS, and whose
        /// readiness (handshake) `dial` waits for; see ``TCPChannelLayer``. Default `nil`:
        /// frames go straight over the socket.
        package var channelLayer: (any TCPChannelLayer)?

        /// Creates a configuration; every argument has the default documented on its
        /// property.
        public init(
            maxFrameSize: Int = 4 * 1024 * 1024,
            frameTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(60),
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger = Logger(label: "micro.transport.tcp")
        ) {
            self.maxFrameSize = min(max(maxFrameSize, 64), Int(UInt32.max))
            self.frameTimeout = frameTimeout
            self.idleTimeout = idleTimeout
            self.eventLoopGroup = eventLoopGroup
            self.logger = logger
        }

        /// Reads `tcp_max_frame_size`, `tcp_frame_timeout` and `tcp_idle_timeout` from
        /// `options`; keys not set keep their defaults.
        ///
        /// - Throws: ``OptionError`` when a value is not a number or duration.
        public init(options: MicroOptions, logger: Logger = Logger(label: "micro.transport.tcp")) throws {
            self.init(logger: logger)
            if let size = try options.integer(Self.maxFrameSizeKey.name) {
                guard size >= 64, size <= Int(UInt32.max) else {
                    throw OptionError(key: Self.maxFrameSizeKey.name, message: "expects 64 to 4294967295 bytes, got \(size)")
                }
                maxFrameSize = size
            }
            if let timeout = try options.duration(Self.frameTimeoutKey.name) { frameTimeout = timeout }
            if let timeout = try options.duration(Self.idleTimeoutKey.name) { idleTimeout = timeout }
        }

        /// `--tcp_max_frame_size`: the largest frame in bytes.
        public static let maxFrameSizeKey = OptionKey(
            "tcp_max_frame_size", default: "4194304", help: "largest TCP transport frame in bytes (headers and body)")
        /// `--tcp_frame_timeout`: how long a started frame may take to arrive.
        public static let frameTimeoutKey = OptionKey(
            "tcp_frame_timeout", default: "10s", help: "disconnect a peer that stalls this long inside a frame")
        /// `--tcp_idle_timeout`: how long an unused client connection stays open.
        public static let idleTimeoutKey = OptionKey(
            "tcp_idle_timeout", default: "60s", help: "close client connections with no open stream after this long (0 = never)")

        /// The plugin's option keys.
        public static let optionKeys: [OptionKey] = [maxFrameSizeKey, frameTimeoutKey, idleTimeoutKey]
    }
}
