import Foundation
import MicroCore
import MicroTesting
import Testing

/// The flags of `micro` and `greeter` come from the linked plugins' option keys: every
/// key is accepted, an unknown flag is refused naming the nearest, `--help` and
/// `--version` answer and exit.
@Suite(.serialized)
struct PluginFlagsTests {
    @Test func everyPluginKeyIsAFlagOfEveryCommand() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let services = try await world.micro(["services", "--selector_ttl", "1m"])
        #expect(services.status == 0, "\(services.error)")
        let before = try await world.micro(["--selector_ttl=1m", "--tcp_idle_timeout", "30s", "list", "services"])
        #expect(before.status == 0, "plugin flags before the command: \(before.error)")
        let get = try await world.micro(["get", "service", "nobody", "--output", "json", "--selector-ttl", "1m"])
        #expect(get.error.contains("service nobody not found"), "\(get.error)")
    }

    @Test func microRefusesAnUnknownFlagNamingTheNearest() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let plugin = try await world.micro(["services", "--registy", "etcd"])
        #expect(plugin.status == 64)
        #expect(plugin.error.contains("unknown flag --registy; did you mean --registry?"), "\(plugin.error)")
        // A command's own option is a known flag too, and a candidate.
        let own = try await world.micro(["call", "--timout", "2s", "greeter", "Greeter.Hello", "{}"])
        #expect(own.status == 64)
        #expect(own.error.contains("unknown flag --timout; did you mean --timeout?"), "\(own.error)")
        let far = try await world.micro(["services", "--frobnicate"])
        #expect(far.status == 64)
        #expect(far.error.contains("unknown flag --frobnicate"), "\(far.error)")
    }

    @Test func microHelpListsTheCommandsOptionsAndThePluginFlags() async throws {
        let micro = try executable("micro")
        for arguments in [["call", "--help"], ["help", "call"], ["--registry", "memory", "call", "-h"]] {
            let help = try await run(micro, arguments, timeLimit: .seconds(20))
            #expect(help.status == 0, "\(arguments): \(help.error)")
            #expect(help.output.contains("--timeout <timeout>"), "\(arguments): ArgumentParser's own options")
            #expect(help.output.contains("PLUGIN FLAGS"))
            #expect(help.output.contains("--registry value"))
            #expect(help.output.contains("registry plugin: etcd, file, memory (default: file) [$MICRO_REGISTRY]"))
            #expect(help.output.contains("(default: 1m) [$MICRO_SELECTOR_TTL]"))
            #expect(help.output.contains("[$MICRO_ETCD_USERNAME]"))
        }
        let root = try await run(micro, ["--help"], timeLimit: .seconds(20))
        #expect(root.status == 0)
        #expect(root.output.contains("services") && root.output.contains("PLUGIN FLAGS"))
    }

    @Test func versionOfBoth() async throws {
        let micro = try await run(try executable("micro"), ["--version"], timeLimit: .seconds(20))
        #expect(micro.status == 0)
        #expect(micro.output == "micro (swift-micro \(MicroVersion.current))\n")
        let greeter = try await run(try executable("greeter"), ["--version"], timeLimit: .seconds(20))
        #expect(greeter.status == 0)
        #expect(greeter.output == "greeter (swift-micro \(MicroVersion.current))\n")
    }

    @Test func greeterHelpExitsWithTheFlagsWithoutRegistering() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let started = ContinuousClock.now
        let help = try await run(try executable("greeter"), world.registryFlags + ["--help"], timeLimit: .seconds(20))
        #expect(help.status == 0, "\(help.error)")
        #expect(ContinuousClock.now - started < .seconds(10), "help does not start the service")
        #expect(help.output.hasPrefix("USAGE: greeter"))
        #expect(help.output.contains("--registry value"))
        #expect(help.output.contains("registry plugin: etcd, file, memory (default: file) [$MICRO_REGISTRY]"))
        #expect(help.output.contains("(default: 90) [$MICRO_REGISTER_TTL]"))
        #expect(help.output.contains("[$MICRO_TCP_IDLE_TIMEOUT]"))
        #expect(help.output.contains("--version"))
        #expect(help.error.isEmpty, "nothing started, nothing logged: \(help.error)")
        #expect(try await world.registry.listServices().isEmpty)
    }

    @Test func greeterRefusesAnUnknownFlagWithoutRegistering() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let result = try await run(try executable("greeter"), world.registryFlags + ["--registy", "etcd"], timeLimit: .seconds(20))
        #expect(result.status == 64)
        #expect(result.error.contains("unknown flag --registy; did you mean --registry?"), "\(result.error)")
        #expect(try await world.registry.listServices().isEmpty)
    }
}
