import ArgumentParser
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

/// The plugin flags every `micro` command accepts: the option keys of the linked plugins
/// (`Plugins.optionKeys`), with go-micro's names and `MICRO_…` variables. They are not
/// declared to ArgumentParser: they are taken out of the command line before it parses the
/// rest (each command's own options and arguments), so the keys are their one source.
enum PluginFlags {
    /// The plugins the `micro` tool links.
    static let plugins = Plugins([
        .file, .etcd, .tcp, .json, .cache, .cacheRoundRobin, .random, .roundRobin, .memoryRegistry, .memoryTransport, .http,
    ])

    /// This process's command line read against the plugin keys and the chosen command's
    /// own options; read once.
    static let commandLine = Result { try read(Array(CommandLine.arguments.dropFirst())) }

    /// `arguments` read against the plugin keys, allowing the own options of the command
    /// they name.
    ///
    /// - Throws: ``UnknownFlagError`` for a flag that is neither a plugin key nor the
    ///   command's own, naming the nearest of both; ``OptionError`` for a plugin flag
    ///   without a value.
    static func read(_ arguments: [String]) throws -> CommandLineFlags {
        let keys = plugins.optionKeys
        // Which command: the first argument left once the plugin flags are out. For this
        // first look every flag is allowed (unknown ones are added as they are found).
        var allowed = MicroCommand.configuration.subcommands.flatMap(ownFlags(of:))
        var first: CommandLineFlags?
        for _ in 0...arguments.count {
            do {
                first = try CommandLineFlags(parsing: arguments, keys: keys, allowing: allowed)
                break
            } catch let error as UnknownFlagError {
                allowed.append(error.flag)
            } catch {
                break
            }
        }
        let chosen = first.flatMap { command(in: $0.remaining) }
        return try CommandLineFlags(parsing: arguments, keys: keys, allowing: chosen.map(ownFlags(of:)) ?? [])
    }

    /// The subcommand `arguments` name (`micro call …`, or `micro help call`), if any.
    static func command(in arguments: [String]) -> (any ParsableCommand.Type)? {
        var words = arguments.filter { !$0.hasPrefix("-") }[...]
        if words.first == "help" { words = words.dropFirst() }
        guard let word = words.first else { return nil }
        return MicroCommand.configuration.subcommands.first { $0._commandName == word }
    }

    /// The long option names (without dashes) ArgumentParser knows for `command`, read
    /// from its own description of the command, so they are not listed twice either.
    static func ownFlags(of command: any ParsableCommand.Type) -> [String] {
        guard let tool = try? JSONSerialization.jsonObject(with: Data(command._dumpHelp().utf8)) as? [String: Any],
            let info = tool["command"] as? [String: Any],
            let arguments = info["arguments"] as? [[String: Any]]
        else { return [] }
        return arguments.flatMap { argument in
            (argument["names"] as? [[String: Any]] ?? []).compactMap { name in
                name["kind"] as? String == "long" ? name["name"] as? String : nil
            }
        }
    }

    /// The `PLUGIN FLAGS` section every command's help ends with.
    static var helpSection: String {
        MicroOptions.flagList(plugins.describedOptionKeys, heading: "PLUGIN FLAGS")
    }

    /// The backends the plugin flags choose (over the environment over the defaults).
    static func runtime() throws -> MicroRuntime {
        let flags = try commandLine.get()
        let options = MicroOptions.resolve(flags: flags.values, keys: plugins.optionKeys)
        do {
            return try MicroRuntime(
                plugins: plugins, options: options,
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
