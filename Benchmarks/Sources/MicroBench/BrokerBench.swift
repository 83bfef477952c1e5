import BrokerHTTP
import CodecJSON
import Dispatch
import Logging
import Micro
import MicroCore
import NIOCore
import RegistryFile
import TransportTCP

#if canImport(Glibc)
import Glibc
#endif

/// swift-micro's HTTP broker: events from a publisher process to subscriber processes.
///
/// Each subscriber process (`serve broker --topic T`) is a `MicroRuntime` with the file
/// registry and the HTTP broker, as an application links them; it subscribes to `T` in
/// queue group ``queue`` and acknowledges every event as soon as it has it (an empty
/// handler). "Two queue members" are two such processes in the same group: each event
/// goes to one of them, chosen at random by the publisher.
///
/// The publisher process (`load broker --topic T --members N`) waits until its registry
/// cache lists the `N` members, then publishes with closed-loop workers: one call is one
/// `publish`, which returns once a member acknowledged the event, so its duration is the
/// delivery latency (POST to the member, its handler, the 200 back).
///
/// The registry directory comes from `MICRO_REGISTRY_ADDRESS`, as for ``MicroEcho``; the
/// broker listens on its default, `127.0.0.1:0`.
enum BrokerBench {
    /// The queue group of the subscribers.
    static let queue = "bench"

    /// The plugins: file registry, TCP transport, JSON codec and the HTTP broker.
    static var plugins: Plugins { Plugins([.file, .tcp, .json, .http]) }

    /// Makes the runtime from the plugins and the `MICRO_…` environment.
    static func runtime() throws -> MicroRuntime {
        try MicroRuntime(plugins: plugins, options: MicroOptions.resolve(arguments: [], keys: allKeys), logger: MicroEcho.logger)
    }

    private static var allKeys: [OptionKey] {
        var all = Plugins([.random, .roundRobin])
        all.merge(plugins)
        return all.optionKeys
    }

    /// Subscribes to `topic` in ``queue``, calls `ready` with the broker's address once the
    /// subscription is registered, acknowledges every event until SIGTERM or SIGINT, then
    /// unsubscribes (deregistering) and shuts the runtime down.
    static func subscribe(topic: String, ready: @escaping @Sendable (String) -> Void) async throws {
        let signals = terminationSignals()
        let runtime = try runtime()
        guard let broker = runtime.broker else { throw BenchError("broker: no broker plugin is linked") }
        try await runtime.start()
        let subscription: BrokerSubscription
        do {
            subscription = try await broker.subscribe(topic, queue: queue)
        } catch {
            await runtime.shutdown()
            throw error
        }
        let consumer = Task {
            try await subscription.handle { _ in }
        }
        ready((broker as? HTTPBroker)?.advertisedAddress?.description ?? "?")
        for await _ in signals { break }
        await subscription.unsubscribe()
        _ = try? await consumer.value
        await runtime.shutdown()
    }

    /// Publishes `payload` bytes to `topic` from `generator`'s workers once `members`
    /// subscribers are in the registry cache.
    static func publish(
        topic: String, members: Int, payload: Int, generator: LoadGenerator
    ) async throws -> LoadResult {
        let runtime = try runtime()
        guard let broker = runtime.broker else { throw BenchError("broker: no broker plugin is linked") }
        return try await runtime.withStarted {
            try await waitForMembers(members, of: topic, in: runtime.registryCache)
            let message = BrokerMessage(
                headers: ["Content-Type": "application/octet-stream"],
                body: ByteBuffer(repeating: UInt8(ascii: "x"), count: payload)
            )
            var result = await generator.run(kind: BenchKind.broker.rawValue, payload: payload) { _ in
                _ = try await broker.publish(topic, message: message)
            }
            result.members = members
            return result
        }
    }

    /// Waits (up to 15 s) until `cache` lists `members` subscribers of `topic` in ``queue``.
    private static func waitForMembers(_ members: Int, of topic: String, in cache: RegistryCache) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        var seen = 0
        while clock.now < deadline {
            let records = (try? await cache.records(of: HTTPBroker.serviceName)) ?? []
            seen = records.filter { $0.version == queue }
                .flatMap(\.nodes)
                .filter { $0.metadata["topic"] == topic }
                .count
            if seen >= members { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("broker: \(seen) of \(members) subscribers of \(topic) in the registry after 15 s")
    }

    /// SIGTERM and SIGINT as a stream (their default action is turned off).
    private static func terminationSignals() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        // The sources live as long as the stream is consumed.
        let held = SignalSources(sources)
        continuation.onTermination = { _ in held.cancel() }
        return stream
    }

    /// Keeps the signal sources alive.
    private final class SignalSources: @unchecked Sendable {
        // @unchecked Sendable: set once, then only cancelled.
        private let sources: [any DispatchSourceSignal]
        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
        func cancel() { for source in sources { source.cancel() } }
    }
}
