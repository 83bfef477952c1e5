import MicroCore
import Testing

@Suite struct CommandLineFlagsTests {
    @Test func keysAreTakenOutAndTheRestLeftInOrder() throws {
        let flags = try CommandLineFlags(
            parsing: ["--registry", "etcd", "call", "--output", "json", "greeter", "--selector_ttl=1m", "-v", "--", "--anything"],
            keys: OptionKey.core + [RegistryCache.Configuration.ttlKey], allowing: ["output"]
        )
        #expect(flags.values == ["registry": "etcd", "selector_ttl": "1m"])
        #expect(flags.remaining == ["call", "--output", "json", "greeter", "-v", "--", "--anything"])
        #expect(flags.request == nil)
    }

    @Test func helpAndVersionAreRequests() throws {
        #expect(try CommandLineFlags(parsing: ["services", "--help"], keys: OptionKey.core).request == .help)
        #expect(try CommandLineFlags(parsing: ["-h"], keys: OptionKey.core).request == .help)
        #expect(try CommandLineFlags(parsing: ["--version"], keys: OptionKey.core).request == .version)
        #expect(try CommandLineFlags(parsing: ["--version", "--help"], keys: OptionKey.core).request == .help)
        #expect(try CommandLineFlags(parsing: ["--", "--help"], keys: OptionKey.core).request == nil)
        // An unknown flag beside a request is not an error: the request is answered.
        #expect(try CommandLineFlags(parsing: ["--registy", "--help"], keys: OptionKey.core).request == .help)
    }

    @Test func theFirstUnknownFlagIsAnError() {
        #expect(throws: UnknownFlagError(flag: "transprot", suggestion: "transport")) {
            try CommandLineFlags(parsing: ["x", "--transprot", "tcp", "--registy", "etcd"], keys: OptionKey.core)
        }
        #expect(throws: UnknownFlagError(flag: "hlep", suggestion: "help")) {
            try CommandLineFlags(parsing: ["--hlep"], keys: OptionKey.core)
        }
    }

    @Test func aKeyWithoutAValueIsAnError() {
        #expect(throws: OptionError.self) { try CommandLineFlags(parsing: ["--registry"], keys: OptionKey.core) }
        #expect(throws: OptionError.self) { try CommandLineFlags(parsing: ["--registry", "--help"], keys: OptionKey.core) }
    }
}
