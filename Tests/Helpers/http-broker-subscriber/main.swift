// A subscriber process for BrokerHTTPTests' cross-process tests: subscribes through an
// HTTPBroker over a file registry (a directory) or etcd (`etcd://host:port`) and writes each message's body to standard output, one
// line per message, before acknowledging it. On SIGTERM it stops as a service does:
// unsubscribes (deregistering), finishes what it holds, waits a second for publishers'
// caches to drop it, closes its listener, writes `stopped` and exits 0.
//
//     http-broker-subscriber <registry-directory or etcd://host:port> <topic> <queue or ->
import BrokerHTTP
import Dispatch
import Foundation
import Logging
import MicroCore
import NIOCore
import RegistryEtcd
import RegistryFile

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: http-broker-subscriber <registry-directory or etcd://host:port> <topic> <queue or ->\n".utf8))
    exit(2)
}
signal(SIGTERM, SIG_IGN)
let (terminations, terminated) = AsyncStream<Void>.makeStream()
let signalSource = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
// @Sendable: not isolated to the main actor, as it runs on a Dispatch queue.
signalSource.setEventHandler { @Sendable in terminated.yield() }
signalSource.resume()
let registry: any Registry
if arguments[1].hasPrefix("etcd://") {
    registry = try EtcdRegistry(configuration: .init(endpoints: [try EtcdEndpoint(parsing: String(arguments[1].dropFirst(7)))]))
} else {
    registry = FileRegistry(configuration: .init(directory: arguments[1]))
}
let cache = RegistryCache(registry: registry)
let broker = HTTPBroker(registry: registry, registryCache: cache)
try await registry.start()
try await broker.start()
let subscription = try await broker.subscribe(arguments[2], queue: arguments[3] == "-" ? nil : arguments[3])
FileHandle.standardOutput.write(Data("ready\n".utf8))
let consumer = Task {
    try await subscription.handle { message in
        // Written (one write call, unbuffered) before the acknowledgement: a message this
        // process acknowledged is always in its output.
        FileHandle.standardOutput.write(Data((String(buffer: message.body) + "\n").utf8))
    }
}
for await _ in terminations { break }
await subscription.unsubscribe()
_ = await consumer.result
try? await Task.sleep(for: .seconds(1))
await broker.shutdown()
FileHandle.standardOutput.write(Data("stopped\n".utf8))
exit(0)
