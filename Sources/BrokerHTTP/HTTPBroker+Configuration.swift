public import Logging
public import MicroCore

extension HTTPBroker {
    /// How an ``HTTPBroker`` listens, registers and delivers. Every field documents its
    /// default; ``init(options:logger:)`` reads the `--broker_…` options.
    public struct Configuration: Sendable {
        /// Where the subscriber's HTTP/1.1 listener binds, `host:port`; port 0 picks a
        /// free one. Default `127.0.0.1:0`, as go-micro: loopback only, so set it (for
        /// example `0.0.0.0:0` with ``advertise``) for subscribers on other hosts.
        public var address: String = "127.0.0.1:0"
        /// The address registered for subscribers instead of the bound one, `host:port`;
        /// `nil` (the default) registers the bound address.
        public var advertise: String?
        /// The largest request body the listener accepts; a larger one is answered 413
        /// and its connection closed. Default 4 MiB.
        public var maxBodySize: Int = 4 * 1024 * 1024
        /// How long a delivery may take: a subscriber answers 504 when its consumer has not
        /// settled a message in this time, and a publisher gives up on a POST after it.
        /// Default 30 s.
        public var deliveryTimeout: Duration = .seconds(30)
        /// How long a request may take to arrive once its head started: a stalled request
        /// has its connection closed. Default 10 s.
        public var readTimeout: Duration = .seconds(10)
        /// How long an idle keep-alive connection to the listener stays open. Default 90 s
        /// (longer than a publisher's pooled connections idle, 60 s).
        public var idleTimeout: Duration = .seconds(90)
        /// How many POSTs a publish makes at most for one queue group (each to the next
        /// member) or for one broadcast subscriber that cannot be reached. Default 3.
        public var publishAttempts: Int = 3
        /// The pause before the second attempt of a delivery; it doubles per attempt, up
        /// to ``maxRetryBackoff``. Default 50 ms.
        public var retryBackoff: Duration = .milliseconds(50)
        /// The longest pause between two attempts of a delivery. Default 1 s.
        public var maxRetryBackoff: Duration = .seconds(1)
        /// Whether ``HTTPBroker/publish(_:message:)`` returns once it found the subscribers,
        /// delivering in the background (go-micro's behaviour: failures are logged, not
        /// thrown, and a broker shut down meanwhile drops what it has not delivered).
        /// Default `false`: `publish` returns once every subscriber acknowledged.
        public var fireAndForget: Bool = false
        /// How many deliveries a subscription may leave untaken before further ones are
        /// answered 503 (busy). Default 64.
        public var capacity: Int = 64
        /// How many connections a publisher keeps to one subscriber's listener (kept
        /// alive and pooled); at most this many POSTs to one listener are in flight at
        /// once. Default 16.
        public var maxConnectionsPerSubscriber: Int = 16
        /// The TTL of each subscription's registration. Default 60 s, as go-micro.
        public var registerTTL: Duration = .seconds(60)
        /// How often each subscription's registration is renewed. Default 30 s, as go-micro.
        public var registerInterval: Duration = .seconds(30)
        /// How long `subscribe` waits for its registration to show in this process's
        /// registry cache, so that a publish in this process right after it finds the
        /// subscriber. Default 2 s; past it, `subscribe` returns anyway.
        public var visibilityTimeout: Duration = .seconds(2)
        /// A PEM file of the certificate authorities that verify subscribers registered
        /// with `secure=true` (POSTed over HTTPS); `nil` (the default) uses the system's
        /// roots.
        public var tlsCAFile: String?
        /// Whether HTTPS deliveries skip verifying the subscriber's certificate, as
        /// go-micro's secure broker does with its self-signed certificates. Default
        /// `false`: verified.
        public var tlsInsecure: Bool = false
        /// Where the broker logs.
        public var logger: Logger

        /// The defaults, logging to `micro.broker.http`.
        public init(logger: Logger = Logger(label: "micro.broker.http")) {
            self.logger = logger
        }

        /// `--broker_address` (`MICRO_BROKER_ADDRESS`, default `127.0.0.1:0`).
        public static let addressKey = OptionKey(
            "broker_address", default: "127.0.0.1:0", help: "address the HTTP broker's subscriber listener binds, host:port"
        )
        /// `--broker_advertise` (`MICRO_BROKER_ADVERTISE`): the address registered instead
        /// of the bound one.
        public static let advertiseKey = OptionKey(
            "broker_advertise", help: "address registered for HTTP broker subscribers instead of the bound one"
        )
        /// `--broker_max_body_size` (`MICRO_BROKER_MAX_BODY_SIZE`, default 4194304 bytes).
        public static let maxBodySizeKey = OptionKey(
            "broker_max_body_size", default: "4194304", help: "largest HTTP broker request body in bytes"
        )
        /// `--broker_delivery_timeout` (`MICRO_BROKER_DELIVERY_TIMEOUT`, default `30s`).
        public static let deliveryTimeoutKey = OptionKey(
            "broker_delivery_timeout", default: "30s", help: "time a subscriber may take to acknowledge one HTTP broker delivery"
        )
        /// `--broker_read_timeout` (`MICRO_BROKER_READ_TIMEOUT`, default `10s`).
        public static let readTimeoutKey = OptionKey(
            "broker_read_timeout", default: "10s", help: "time an HTTP broker request may take to arrive"
        )
        /// `--broker_publish_attempts` (`MICRO_BROKER_PUBLISH_ATTEMPTS`, default 3).
        public static let publishAttemptsKey = OptionKey(
            "broker_publish_attempts", default: "3", help: "POSTs an HTTP broker publish makes at most per queue group"
        )
        /// `--broker_retry_backoff` (`MICRO_BROKER_RETRY_BACKOFF`, default `50ms`).
        public static let retryBackoffKey = OptionKey(
            "broker_retry_backoff", default: "50ms", help: "first pause between HTTP broker delivery attempts (doubles)"
        )

        /// `--broker_fire_and_forget` (`MICRO_BROKER_FIRE_AND_FORGET`, default `false`):
        /// `true` makes `publish` return before delivery, as go-micro's.
        public static let fireAndForgetKey = OptionKey(
            "broker_fire_and_forget", default: "false", help: "true: an HTTP broker publish returns before delivery, as go-micro's"
        )

        /// `--broker_tls_ca_file` (`MICRO_BROKER_TLS_CA_FILE`, default: the system's roots).
        public static let tlsCAFileKey = OptionKey(
            "broker_tls_ca_file", help: "PEM CA file that verifies secure=true subscribers (POSTed over HTTPS; default: system roots)"
        )
        /// `--broker_tls_insecure` (`MICRO_BROKER_TLS_INSECURE`, default `false`).
        public static let tlsInsecureKey = OptionKey(
            "broker_tls_insecure", default: "false",
            help: "true skips verifying secure=true subscribers' certificates (go-micro's self-signed ones)"
        )

        /// Every option key of the plugin.
        public static let keys: [OptionKey] = [
            addressKey, advertiseKey, maxBodySizeKey, deliveryTimeoutKey, readTimeoutKey, publishAttemptsKey, retryBackoffKey,
            fireAndForgetKey, tlsCAFileKey, tlsInsecureKey,
        ]

        /// The defaults with the `--broker_…` options from `options`.
        ///
        /// - Throws: ``MicroCore/OptionError`` for a value that cannot be used.
        public init(options: MicroOptions, logger: Logger = Logger(label: "micro.broker.http")) throws {
            self.init(logger: logger)
            if let address = options[Configuration.addressKey.name], !address.isEmpty {
                do {
                    _ = try HostPort(parsing: address, anyHost: "0.0.0.0", allowsPortZero: true)
                } catch {
                    throw OptionError(key: Configuration.addressKey.name, message: "\(error)")
                }
                self.address = address
            }
            if let advertise = options[Configuration.advertiseKey.name], !advertise.isEmpty {
                do {
                    _ = try HostPort(parsing: advertise)
                } catch {
                    throw OptionError(key: Configuration.advertiseKey.name, message: "\(error)")
                }
                self.advertise = advertise
            }
            if let size = try options.integer(Configuration.maxBodySizeKey.name) {
                guard size > 0 else { throw OptionError(key: Configuration.maxBodySizeKey.name, message: "must be positive, got \(size)") }
                maxBodySize = size
            }
            if let timeout = try options.duration(Configuration.deliveryTimeoutKey.name) { deliveryTimeout = timeout }
            if let timeout = try options.duration(Configuration.readTimeoutKey.name) { readTimeout = timeout }
            if let attempts = try options.integer(Configuration.publishAttemptsKey.name) {
                guard attempts > 0 else {
                    throw OptionError(key: Configuration.publishAttemptsKey.name, message: "must be at least 1, got \(attempts)")
                }
                publishAttempts = attempts
            }
            if let backoff = try options.duration(Configuration.retryBackoffKey.name) { retryBackoff = backoff }
            fireAndForget = try Configuration.flag(Configuration.fireAndForgetKey, in: options) ?? fireAndForget
            if let file = options[Configuration.tlsCAFileKey.name], !file.isEmpty { tlsCAFile = file }
            tlsInsecure = try Configuration.flag(Configuration.tlsInsecureKey, in: options) ?? tlsInsecure
        }

        /// A true-or-false option; `nil` when unset.
        private static func flag(_ key: OptionKey, in options: MicroOptions) throws -> Bool? {
            guard let value = options[key.name] else { return nil }
            switch value.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no", "": return false
            default: throw OptionError(key: key.name, message: "expects true or false, got '\(value)'")
            }
        }
    }
}
