import ArgumentParser
import CodecJSON
import Logging
import Micro
import MicroCore
import MicroMemory
import RegistryEtcd
import RegistryFile
import SelectorCache
import TransportTCP

/// The plugin flags every command accepts, with go-micro's names; each also reads its
/// `MICRO_…` environment variable.
struct PluginFlags: ParsableArguments {
    @Option(name: .customLong("registry"), help: "Registry plugin: file (default), etcd, memory.")
    var registry: String?

    @Option(name: .customLong("registry_address"), help: "Registry address(es), comma-separated; for file, the directory; for etcd, host:port or http(s) URLs (default 127.0.0.1:2379).")
    var registryAddress: String?

    @Option(name: .customLong("etcd_username"), help: "etcd registry: user to authenticate as (also ETCD_USERNAME).")
    var etcdUsername: String?

    @Option(name: .customLong("etcd_password"), help: "etcd registry: password of that user (also ETCD_PASSWORD).")
    var etcdPassword: String?

    @Option(name: .customLong("etcd_timeout"), help: "etcd registry: time one registry call may take (default 5s).")
    var etcdTimeout: String?

    @Option(name: .customLong("etcd_tls_ca_file"), help: "etcd registry: PEM CA file for https:// endpoints.")
    var etcdTLSCAFile: String?

    @Option(name: .customLong("etcd_tls_insecure"), help: "etcd registry: true skips verifying etcd's certificate (default false).")
    var etcdTLSInsecure: String?

    @Option(name: .customLong("transport"), help: "Transport plugin: tcp (default), memory.")
    var transport: String?

    @Option(name: .customLong("selector"), help: "Selector plugin: cache (default), cache_roundrobin, random, roundrobin.")
    var selector: String?

    @Option(name: .customLong("content_type"), help: "Content type of requests (default application/json).")
    var contentType: String?

    @Option(name: .customLong("client_retries"), help: "Retries after a failed attempt (default 1).")
    var clientRetries: String?

    @Option(name: .customLong("client_request_timeout"), help: "Time a call may take, such as 5s (default 5s).")
    var clientRequestTimeout: String?

    @Option(name: .customLong("tcp_max_frame_size"), help: "TCP transport: largest frame in bytes (default 4194304).")
    var tcpMaxFrameSize: String?

    @Option(name: .customLong("tcp_frame_timeout"), help: "TCP transport: stall allowed inside a frame (default 10s).")
    var tcpFrameTimeout: String?

    @Option(name: .customLong("tcp_idle_timeout"), help: "TCP transport: close unused connections after (default 60s).")
    var tcpIdleTimeout: String?

    /// The plugins the `micro` tool links.
    static let plugins = Plugins([.file, .etcd, .tcp, .json, .cache, .cacheRoundRobin, .memoryRegistry, .memoryTransport])

    /// The options: these flags over the environment over the defaults.
    func options() throws -> MicroOptions {
        var flags: [String] = []
        let values: [(OptionKey, String?)] = [
            (.registry, registry), (.registryAddress, registryAddress), (.transport, transport), (.selector, selector),
            (.contentType, contentType), (.clientRetries, clientRetries), (.clientRequestTimeout, clientRequestTimeout),
            (TCPTransport.Configuration.maxFrameSizeKey, tcpMaxFrameSize),
            (TCPTransport.Configuration.frameTimeoutKey, tcpFrameTimeout),
            (TCPTransport.Configuration.idleTimeoutKey, tcpIdleTimeout),
            (EtcdRegistry.Configuration.usernameKey, etcdUsername), (EtcdRegistry.Configuration.passwordKey, etcdPassword),
            (EtcdRegistry.Configuration.timeoutKey, etcdTimeout), (EtcdRegistry.Configuration.caFileKey, etcdTLSCAFile),
            (EtcdRegistry.Configuration.insecureKey, etcdTLSInsecure),
        ]
        for (key, value) in values {
            if let value { flags += ["--\(key.name)", value] }
        }
        return try MicroOptions.resolve(arguments: flags, keys: PluginFlags.plugins.optionKeys)
    }

    /// The backends the flags choose.
    func runtime() throws -> MicroRuntime {
        do {
            return try MicroRuntime(
                plugins: PluginFlags.plugins, options: try options(),
                logger: Logger(label: "micro", factory: { StreamLogHandler.standardError(label: $0) }).withLevel(.error)
            )
        } catch let error as PluginError {
            throw ValidationError(error.description)
        } catch let error as OptionError {
            throw ValidationError(error.description)
        }
    }
}

extension Logger {
    /// This logger at `level`.
    func withLevel(_ level: Logger.Level) -> Logger {
        var logger = self
        logger.logLevel = level
        return logger
    }
}
