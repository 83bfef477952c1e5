import ArgumentParser
import MicroCore

/// `micro services`: the registered service names, one per line.
struct Services: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the registered services, one name per line.")

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        for name in try await runtime.withStarted({ try await serviceNames(runtime.registry) }) { print(name) }
    }
}

/// `micro list services`: the same as `micro services`, go-micro's spelling.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List registered things: `micro list services`.")

    @Argument(help: "What to list: services.")
    var what: String

    func validate() throws {
        guard what == "services" else { throw ValidationError("can list 'services', not '\(what)'") }
    }

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        for name in try await runtime.withStarted({ try await serviceNames(runtime.registry) }) { print(name) }
    }
}

/// The distinct service names in `registry`, sorted.
func serviceNames(_ registry: any Registry) async throws -> [String] {
    Array(Set(try await registry.listServices().map(\.name))).sorted()
}
