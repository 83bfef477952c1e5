import ArgumentParser
import Foundation
import MicroCore

/// The `micro` command-line tool: list, inspect, call services, publish and subscribe to events.
///
/// The plugin flags (``PluginFlags``) are read before ArgumentParser parses the rest, so
/// `--help` and `--version` are answered here too: a command's help is ArgumentParser's,
/// followed by the plugin flags with their `MICRO_…` variables and defaults.
@main
struct MicroCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro",
        abstract: "List, inspect and call swift-micro (and go-micro) services.",
        discussion: "Every command also takes the plugin flags listed under PLUGIN FLAGS.",
        version: MicroVersion.current,
        subcommands: [Services.self, List.self, Get.self, Call.self, Publish.self, Subscribe.self]
    )

    static func main() async {
        let flags: CommandLineFlags
        do {
            flags = try PluginFlags.commandLine.get()
        } catch {
            let arguments = Array(CommandLine.arguments.dropFirst())
            let command = PluginFlags.command(in: arguments)
            printError("Error: \(error)")
            printError("Usage: \(MicroCommand.usageString(for: command ?? (MicroCommand.self as any ParsableCommand.Type)))")
            printError("  See 'micro\(command.map { " " + $0._commandName } ?? "") --help' for the flags.")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        let command = PluginFlags.command(in: flags.remaining)
        if flags.request == .help || flags.remaining.first == "help" {
            var help = MicroCommand.helpMessage(for: command ?? (MicroCommand.self as any ParsableCommand.Type))
            while help.hasSuffix("\n") { help.removeLast() }
            print(help + "\n\n" + PluginFlags.helpSection)
            Foundation.exit(0)
        }
        if flags.request == .version {
            print(MicroVersion.line(program: "micro"))
            Foundation.exit(0)
        }
        await MicroCommand.main(flags.remaining)
    }
}
