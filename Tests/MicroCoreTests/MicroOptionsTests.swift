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
            ["--registry-address", "127.0.0.1:2379", "--unknown", "x", "positional"], keys: OptionKey.core
        )
        #expect(values == ["registry_address": "127.0.0.1:2379"])
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
