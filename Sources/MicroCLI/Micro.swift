import ArgumentParser

/// The `micro` command-line tool: list, inspect, call services and publish events.
@main
struct MicroCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro",
        abstract: "List, inspect and call swift-micro (and go-micro) services.",
        subcommands: [Services.self, List.self, Get.self, Call.self, Publish.self]
    )
}
