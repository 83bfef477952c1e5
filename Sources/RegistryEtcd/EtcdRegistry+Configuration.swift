#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
public import MicroCore

extension EtcdRegistry {
    /// How an ``EtcdRegistry`` reaches etcd.
    ///
    /// Plugin option keys (flags `--etcd_…`, environment `MICRO_ETCD_…`) are listed in
    /// ``optionKeys``; `--registry_address` names the endpoints.
    public struct Configuration: Sendable {
        /// The etcd members' client URLs, tried in turn when one cannot be reached; a
        /// request starts with the one that answered last.
        ///
        /// Default: `http://127.0.0.1:2379`, go-micro's default.
        public var endpoints: [EtcdEndpoint]

        /// The user to authenticate as (`/v3/auth/authenticate`); `nil` sends no token.
        ///
        /// Default: `nil`. From options: `--etcd_username`, else `MICRO_ETCD_USERNAME`,
        /// else `ETCD_USERNAME` as go-micro reads it.
        public var username: String?

        /// The password of ``username``. Default: `nil` (empty).
        public var password: String?

        /// How long one registry call (register, deregister, getService, listServices,
        /// opening a watch) may take, every endpoint tried included.
        ///
        /// Default: 5 s, go-micro's.
        public var timeout: Duration

        /// TLS for `https://` endpoints. Default: the system's trust roots, full
        /// verification.
        public var tls: TLS

        /// The first wait before a broken watch stream reconnects; it doubles on each
        /// failure up to ``watchMaximumBackoff``. Default: 100 ms.
        public var watchBackoff: Duration

        /// The longest wait between watch reconnections. Default: 2 s.
        public var watchMaximumBackoff: Duration

        /// Where the registry logs: skipped values, reconnections, lease renewals.
        ///
        /// Default: a logger labelled `micro.registry.etcd`.
        public var logger: Logger

        /// Creates a configuration; every argument has the default documented on its
        /// property.
        public init(
            endpoints: [EtcdEndpoint] = [EtcdEndpoint(host: "127.0.0.1")],
            username: String? = nil,
            password: String? = nil,
            timeout: Duration = .seconds(5),
            tls: TLS = TLS(),
            watchBackoff: Duration = .milliseconds(100),
            watchMaximumBackoff: Duration = .seconds(2),
            logger: Logger = Logger(label: "micro.registry.etcd")
        ) {
            self.endpoints = endpoints.isEmpty ? [EtcdEndpoint(host: "127.0.0.1")] : endpoints
            self.username = username
            self.password = password
            self.timeout = timeout
            self.tls = tls
            self.watchBackoff = watchBackoff
            self.watchMaximumBackoff = watchMaximumBackoff
            self.logger = logger
        }

        /// Reads `registry_address`, `etcd_username`, `etcd_password`, `etcd_timeout`,
        /// `etcd_tls_ca_file` and `etcd_tls_insecure` from `options`; without a user
        /// name there, `ETCD_USERNAME` / `ETCD_PASSWORD` from `environment` are used, as
        /// go-micro does. Keys not set keep their defaults.
        ///
        /// - Throws: ``MicroCore/OptionError`` for an address, duration or flag that
        ///   cannot be used.
        public init(
            options: MicroOptions,
            environment: [String: String] = MicroOptions.processEnvironment,
            logger: Logger = Logger(label: "micro.registry.etcd")
        ) throws {
            self.init(logger: logger)
            if let addresses = options[OptionKey.registryAddress], !addresses.isEmpty {
                let parsed = try EtcdEndpoint.list(addresses)
                if !parsed.isEmpty { endpoints = parsed }
            }
            if let username = options[Self.usernameKey], !username.isEmpty {
                self.username = username
                self.password = options[Self.passwordKey]
            } else if let username = environment["ETCD_USERNAME"], !username.isEmpty {
                self.username = username
                self.password = options[Self.passwordKey] ?? environment["ETCD_PASSWORD"]
            }
            if let timeout = try options.duration(Self.timeoutKey.name) {
                guard timeout > .zero else {
                    throw OptionError(key: Self.timeoutKey.name, message: "expects a duration above zero")
                }
                self.timeout = timeout
            }
            if let file = options[Self.caFileKey], !file.isEmpty { tls.caFile = file }
            if let insecure = options[Self.insecureKey] {
                switch insecure.lowercased() {
                case "1", "true", "yes", "on": tls.insecureSkipVerify = true
                case "0", "false", "no", "off", "": tls.insecureSkipVerify = false
                default: throw OptionError(key: Self.insecureKey.name, message: "expects true or false, got '\(insecure)'")
                }
            }
        }

        /// `--etcd_username`: the etcd user.
        public static let usernameKey = OptionKey(
            "etcd_username", help: "etcd user to authenticate as (also ETCD_USERNAME)")
        /// `--etcd_password`: the etcd user's password.
        public static let passwordKey = OptionKey(
            "etcd_password", help: "password of the etcd user (also ETCD_PASSWORD)")
        /// `--etcd_timeout`: how long one registry call may take.
        public static let timeoutKey = OptionKey(
            "etcd_timeout", default: "5s", help: "time one etcd registry call may take, every endpoint tried")
        /// `--etcd_tls_ca_file`: a PEM file of the CA that signed etcd's certificate.
        public static let caFileKey = OptionKey(
            "etcd_tls_ca_file", help: "PEM CA file that verifies https:// etcd endpoints (default: system roots)")
        /// `--etcd_tls_insecure`: skip verifying etcd's certificate.
        public static let insecureKey = OptionKey(
            "etcd_tls_insecure", default: "false", help: "true skips verifying the certificate of https:// etcd endpoints")

        /// The plugin's option keys.
        public static let optionKeys: [OptionKey] = [usernameKey, passwordKey, timeoutKey, caFileKey, insecureKey]
    }

    /// TLS settings for `https://` endpoints.
    public struct TLS: Sendable, Hashable {
        /// A PEM file of trusted CA certificates; `nil` trusts the system's roots.
        /// Default: `nil`.
        public var caFile: String?
        /// Accept any certificate (testing only). Default: `false`.
        public var insecureSkipVerify: Bool

        /// Creates TLS settings; every argument has the default documented on its
        /// property.
        public init(caFile: String? = nil, insecureSkipVerify: Bool = false) {
            self.caFile = caFile
            self.insecureSkipVerify = insecureSkipVerify
        }
    }
}
