import ArgumentParser
import Foundation
import Micro
import MicroCore
import NIOCore
import UnixSignals

/// `micro subscribe TOPIC [--queue Q]`: prints each event of a topic as one JSON line until
/// interrupted.
struct Subscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each event of a topic as one JSON line until interrupted: `micro subscribe greeter.greetings`.",
        discussion: """
            Each line is {"topic":…,"headers":{…},"body":…}, the body as JSON when it is JSON and as a string otherwise. \
            Events are acknowledged once printed. SIGINT or SIGTERM deregisters the subscriber and exits 0.
            """
    )

    @Argument(help: "The topic.")
    var topic: String

    @Option(help: "Join this queue group: each event goes to one member of the group.")
    var queue: String?

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        guard let broker = runtime.broker else {
            throw ValidationError("no broker plugin is linked; subscribing needs one (--broker http)")
        }
        let (topic, queue) = (self.topic, self.queue)
        try await runtime.withStarted {
            let subscription = try await broker.subscribe(topic, queue: queue)
            printError("subscribed to \(topic)\(queue.map { " in queue \($0)" } ?? ""); interrupt to stop")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await subscription.handle { message in
                        // Written at once (not buffered), so a pipe sees each event as it comes.
                        FileHandle.standardOutput.write(Data((Subscribe.line(topic: topic, message) + "\n").utf8))
                    }
                }
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                // Deregister first; the loop ends once what was buffered is printed.
                await subscription.unsubscribe()
                try await group.waitForAll()
            }
        }
    }

    /// One event as a JSON line.
    static func line(topic: String, _ message: BrokerMessage) -> String {
        var headers: [String: String] = [:]
        for field in message.headers { headers[field.name] = field.value }
        let bytes = Data(message.body.readableBytesView)
        let body: Any = (try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]))
            ?? String(decoding: bytes, as: UTF8.self)
        let object: [String: Any] = ["topic": topic, "headers": headers, "body": body]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
