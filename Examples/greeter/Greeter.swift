import BrokerHTTP
import CodecJSON
import Foundation
import Logging
import Micro
import MicroCore
import MicroMemory
import RegistryEtcd
import RegistryFile
import SelectorCache
import TransportTCP

/// `Greeter.Hello`'s request.
struct HelloRequest: Codable, Sendable {
    var name: String
}

/// `Greeter.Hello`'s answer.
struct HelloResponse: Codable, Sendable {
    var msg: String
}

/// The example service: `greeter`, with a unary endpoint, a stream and a subscriber.
///
/// ```
/// swift run greeter                       # file registry, TCP, JSON: nothing to install
/// swift run greeter --registry etcd --registry_address 127.0.0.1:2379
/// swift run micro call greeter Greeter.Hello '{"name":"Ada"}'
/// ```
///
/// Every flag of the linked plugins works: `--registry`, `--registry_address`,
/// `--transport`, `--server_address`, `--register_ttl`, … (and their `MICRO_…`
/// variables); `--help` lists them with their variables and defaults, `--version` prints
/// the version, and an unknown flag is refused naming the nearest known one.
@main
struct Greeter {
    static func main() async {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "greeter")
        // --help, --version and unknown flags are answered here, before anything starts.
        let runtime = MicroRuntime.commandLine(
            plugins: Plugins([.file, .etcd, .tcp, .json, .cache, .cacheRoundRobin, .memoryRegistry, .memoryTransport, .http]),
            logger: logger
        )
        do {
            let service = try MicroService(name: "greeter", router: router(logger: logger), runtime: runtime, logger: logger)
            try await service.serve()
        } catch {
            logger.critical("greeter could not run: \(error)")
            exit(1)
        }
    }

    static func router(logger: Logger) -> Router {
        var router = Router()
        router.handle("Greeter.Hello") { (request: HelloRequest, _) in
            logger.info("Greeter.Hello for \(request.name)")
            return HelloResponse(msg: "Hello \(request.name)")
        }
        // Greets every name sent, until the caller closes its side.
        router.stream("Greeter.Stream") {
            (requests: ServerRequestStream<HelloRequest>, responses: ServerResponseWriter<HelloResponse>, _) in
            for try await request in requests {
                try await responses.send(HelloResponse(msg: "Hello \(request.name)"))
            }
        }
        router.subscribe("greeter.greetings", name: "Greeter.Greeted") { (event: HelloRequest, _) in
            logger.info("someone greeted \(event.name)")
        }
        return router
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
