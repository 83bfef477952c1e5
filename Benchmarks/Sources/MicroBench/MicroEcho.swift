import CodecJSON
import Logging
import Micro
import MicroCore
import NIOCore
import RegistryFile
import SelectorCache
import TransportTCP

/// swift-micro: an echo service set up as an application would (`MicroRuntime` from the
/// linked plugins: file registry, TCP transport, JSON codec and the cache selector, the
/// defaults when linked, as the greeter example links them), called through the
/// runtime's `RPCClient`.
///
/// The registry directory comes from `MICRO_REGISTRY_ADDRESS`, which the driver sets to a
/// temporary directory shared by the server and client processes.
enum MicroEcho {
    static let service = "bench.echo"
    static let jsonEndpoint = "Echo.Echo"
    static let bytesEndpoint = "Echo.Bytes"

    /// The JSON endpoint's request and response.
    struct Message: Codable, Sendable {
        var data: String
    }

    /// The plugins the benchmark links; with no flag, each kind's default is used (file,
    /// tcp, json, cache).
    static var plugins: Plugins { Plugins([.file, .tcp, .json, .cache]) }

    /// Makes the runtime from the plugins, flags and `MICRO_…` environment.
    static func runtime() throws -> MicroRuntime {
        try MicroRuntime(plugins: plugins, options: MicroOptions.resolve(arguments: [], keys: allKeys), logger: logger)
    }

    static let logger: Logger = {
        var logger = Logger(label: "micro-bench")
        logger.logLevel = .warning
        return logger
    }()

    private static var allKeys: [OptionKey] {
        var all = Plugins([.random, .roundRobin])
        all.merge(plugins)
        return all.optionKeys
    }

    /// The echo router: JSON and bytes.
    static var router: Router {
        var router = Router()
        router.handle(jsonEndpoint) { (request: Message, _) in request }
        router.handle(bytesEndpoint) { (request: ByteBuffer, _) in request }
        return router
    }

    /// Serves and registers; calls `ready` with the address, then serves until SIGTERM.
    static func serve(ready: @escaping @Sendable (String) -> Void) async throws {
        let service = try MicroService(name: service, router: router, runtime: try runtime(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.serve() }
            group.addTask { ready(try await service.ready()) }
            try await group.waitForAll()
        }
    }
}
