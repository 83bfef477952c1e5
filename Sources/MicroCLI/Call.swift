import ArgumentParser
import Foundation
import MicroCore
import NIOCore

/// `micro call SERVICE ENDPOINT 'JSON'`: calls an endpoint and prints the JSON answer.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call an endpoint: `micro call greeter Greeter.Hello '{\"name\":\"Ada\"}'`.",
        discussion: "Prints the JSON answer. On error prints the error's JSON to standard error and exits with 1."
    )

    @Argument(help: "The service name.")
    var service: String

    @Argument(help: "The endpoint, Handler.Method.")
    var endpoint: String

    @Argument(help: "The request as JSON.")
    var request: String = "{}"

    @Option(help: "Metadata to send, key=value (repeatable).")
    var metadata: [String] = []

    @Option(help: "Time the call may take, such as 500ms or 5s.")
    var timeout: String?

    @Option(help: "Call this host:port and skip the registry.")
    var address: String?

    func validate() throws {
        try validateJSON(request)
        _ = try parseMetadata(metadata)
        if let timeout, MicroOptions.parseDuration(timeout) == nil {
            throw ValidationError("--timeout expects a duration such as 500ms or 5s, got '\(timeout)'")
        }
    }

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        let options = CallOptions(
            timeout: timeout.flatMap(MicroOptions.parseDuration), metadata: try parseMetadata(metadata), address: address
        )
        do {
            let answer = try await runtime.withStarted {
                try await runtime.client.call(
                    service, endpoint, request: ByteBuffer(string: request), responseType: ByteBuffer.self, options: options
                )
            }
            print(String(buffer: answer))
        } catch let error as MicroError {
            printError(error.json)
            throw ExitCode(1)
        }
    }
}

/// `micro publish TOPIC 'JSON'`: publishes an event.
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish an event: `micro publish greeter.greetings '{\"name\":\"Ada\"}'`."
    )

    @Argument(help: "The topic.")
    var topic: String

    @Argument(help: "The event as JSON.")
    var event: String

    @Option(help: "Metadata to send, key=value (repeatable).")
    var metadata: [String] = []

    func validate() throws {
        try validateJSON(event)
        _ = try parseMetadata(metadata)
    }

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        do {
            let metadata = try parseMetadata(metadata)
            let receipt = try await runtime.withStarted {
                try await runtime.client.publish(topic, ByteBuffer(string: event), options: PublishOptions(metadata: metadata))
            }
            print("\(topic): \(receipt)")
        } catch let error as MicroError {
            printError(error.json)
            throw ExitCode(1)
        }
    }
}

/// Throws a usage error when `text` is not JSON.
func validateJSON(_ text: String) throws {
    do {
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    } catch {
        throw ValidationError("not valid JSON: \(text)")
    }
}

/// `["k=v", …]` as metadata; a pair without `=` is a usage error.
func parseMetadata(_ pairs: [String]) throws -> Metadata {
    var metadata = Metadata()
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ValidationError("--metadata expects key=value, got '\(pair)'")
        }
        metadata[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return metadata
}
