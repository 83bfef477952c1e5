import MicroCore
import Testing

@Suite struct MicroOptionsTests {
    @Test func precedenceCodeFlagsEnvironmentDefaults() throws {
        let options = try MicroOptions.resolve(
            code: MicroOptions(["registry": "code"]),
            arguments: ["--registry", "flag", "--transport=flagtcp", "--broker_address", "b:1"],
            environment: ["MICRO_REGISTRY": "env", "MICRO_TRANSPORT": "envtcp", "MICRO_SELECTOR": "envsel"]
        )
        #expect(options[.registry] == "code")
        #expect(options[.transport] == "flagtcp")
        #expect(options[.brokerAddress] == "b:1")
        #expect(options[.selector] == "envsel")
        #expect(options[.registerTTL] == "90")
        #expect(options[.contentType] == "application/json")
    }

    @Test func hyphenatedFlagsMatchUnderscoreKeys() throws {
        let values = try MicroOptions.parseFlags(
            ["--registry-address", "127.0.0.1:2379", "positional", "--app-flag", "x"], keys: OptionKey.core, allowing: ["app_flag"]
        )
        #expect(values == ["registry_address": "127.0.0.1:2379"])
    }

    @Test func unknownFlagIsRejectedNamingTheNearest() {
        #expect(throws: UnknownFlagError(flag: "registy", suggestion: "registry")) {
            try MicroOptions.parseFlags(["--registy", "etcd"], keys: OptionKey.core)
        }
        #expect(throws: UnknownFlagError(flag: "register-tll", suggestion: "register_ttl")) {
            try MicroOptions.resolve(arguments: ["--register-tll=5"], environment: [:])
        }
        #expect(throws: UnknownFlagError(flag: "frobnicate", suggestion: nil)) {
            try MicroOptions.resolve(arguments: ["--frobnicate"], environment: [:])
        }
        #expect(
            UnknownFlagError(flag: "registy", suggestion: "registry").description
                == "unknown flag --registy; did you mean --registry?"
        )
        // Flags the program reads itself are allowed, and suggested too.
        #expect(throws: UnknownFlagError(flag: "outptu", suggestion: "output")) {
            try MicroOptions.parseFlags(["--outptu", "json"], keys: OptionKey.core, allowing: ["output"])
        }
    }

    @Test func helpListsTheFlagsWithVariablesAndDefaultsInsteadOfResolving() throws {
        // Help wins over an unknown flag beside it.
        do {
            _ = try MicroOptions.resolve(arguments: ["--registy", "x", "--help"], environment: [:], program: "svc")
            Issue.record("--help resolved options")
        } catch let request as CommandLineRequest {
            #expect(request.kind == .help)
            #expect(request.text.hasPrefix("USAGE: svc"))
            #expect(request.text.contains("--register_ttl value"))
            #expect(request.text.contains("(default: 90) [$MICRO_REGISTER_TTL]"))
            #expect(request.text.contains("[$MICRO_REGISTRY_ADDRESS]"))
            #expect(request.text.contains("--version"))
        }
        #expect(throws: CommandLineRequest(kind: .help, text: MicroOptions.help(program: "svc", keys: OptionKey.core))) {
            try MicroOptions.resolve(arguments: ["-h"], environment: [:], program: "svc")
        }
    }

    @Test func versionPrintsThePackageVersion() {
        #expect(throws: CommandLineRequest(kind: .version, text: "svc (swift-micro \(MicroVersion.current))")) {
            try MicroOptions.resolve(arguments: ["--version"], environment: [:], program: "svc")
        }
    }

    @Test func flagWithoutValueThrows() {
        #expect(throws: OptionError.self) { try MicroOptions.parseFlags(["--registry"], keys: OptionKey.core) }
        #expect(throws: OptionError.self) { try MicroOptions.parseFlags(["--registry", "--transport", "tcp"], keys: OptionKey.core) }
    }

    @Test func durations() throws {
        #expect(MicroOptions.parseDuration("1m30s") == .seconds(90))
        #expect(MicroOptions.parseDuration("500ms") == .milliseconds(500))
        #expect(MicroOptions.parseDuration("60") == .seconds(60))
        #expect(MicroOptions.parseDuration("2h") == .seconds(7200))
        #expect(MicroOptions.parseDuration("5 parsecs") == nil)
        #expect(MicroOptions.parseDuration("") == nil)
        let options = MicroOptions(["register_ttl": "abc"])
        #expect(throws: OptionError.self) { try options.duration("register_ttl") }
        #expect(try MicroOptions(["client_request_timeout": "1.5s"]).duration("client_request_timeout") == .milliseconds(1500))
    }

    @Test func listsAndIntegers() throws {
        let options = MicroOptions(["registry_address": " a:1, ,b:2 ", "client_retries": "3", "bad": "x"])
        #expect(options.list("registry_address") == ["a:1", "b:2"])
        #expect(try options.integer("client_retries") == 3)
        #expect(throws: OptionError.self) { try options.integer("bad") }
    }
}
