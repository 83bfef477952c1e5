import MicroCore
import MicroMemory
import MicroTesting
import Testing

/// The registry suite fails registries that are wrong in ways it must catch: each wrong
/// registry wraps a correct `MemoryRegistry` and breaks one thing, and the tests check
/// that the suite reports a ``ConformanceFailure`` for it from the right case, saying what
/// differed; and that the same wrapper passes a case its bug does not touch, so the
/// failure comes from the bug.
@Suite struct RegistryConformanceTests {
    static var options: RegistryConformance.Options {
        var options = RegistryConformance.Options()
        options.ttl = .seconds(1)
        options.expiryGrace = .seconds(1)
        options.watchTimeout = .seconds(3)
        options.quietPeriod = .milliseconds(300)
        return options
    }

    /// Runs case `name` against `registry`; the failure it reports, or `nil` when it passes.
    func failure(of name: String, _ registry: any Registry) async throws -> ConformanceFailure? {
        let check = try #require(RegistryConformance.cases.first { $0.name == name }, "the suite has no case \(name)")
        do {
            try await check.run({ registry }, options: Self.options)
            return nil
        } catch let failure as ConformanceFailure {
            return failure
        }
    }

    /// How often `text` occurs in `message`.
    func occurrences(of text: String, in message: String) -> Int {
        message.components(separatedBy: text).count - 1
    }

    @Test(arguments: ["watchCreate", "watchEventSequence", "watchAllServices", "watchIgnoresOtherServices", "twoWatchers", "watchDeleteOnExpiry"])
    func duplicatedEventsFail(_ name: String) async throws {
        let failure = try #require(
            try await failure(of: name, DuplicatingRegistry(MemoryRegistry())), "\(name) passed a registry that sends every event twice"
        )
        #expect(failure.message.hasPrefix("RegistryConformance.\(name): "), "\(failure)")
        #expect(failure.message.contains("expected exactly ["), "\(failure)")
        let seen = try #require(failure.message.components(separatedBy: "saw [").last)
        #expect(occurrences(of: "create ", in: seen) >= 2, "the failure shows the duplicate: \(failure)")
    }

    @Test func duplicatedEventsFailTheUnchangedReregisterRule() async throws {
        // Every event doubled: the case fails at its first create already.
        let all = try #require(try await failure(of: "watchReregisterUnchanged", DuplicatingRegistry(MemoryRegistry())))
        #expect(all.message.hasPrefix("RegistryConformance.watchReregisterUnchanged: registering a new node: expected exactly ["), "\(all)")
        // Only updates doubled: MemoryRegistry reports an update per re-register, doubled
        // that is more than one per register.
        let updates = try #require(
            try await failure(of: "watchReregisterUnchanged", DuplicatingRegistry(MemoryRegistry(), actions: [.update]))
        )
        #expect(updates.message.contains("re-registering an unchanged node 3 times must give no event or at most one update"), "\(updates)")
    }

    @Test func duplicatingRegistryPassesWhatItDoesNotBreak() async throws {
        #expect(try await failure(of: "registerAndGet", DuplicatingRegistry(MemoryRegistry())) == nil)
    }

    @Test func createReportedForUpdateFails() async throws {
        let failure = try #require(
            try await failure(of: "watchEventSequence", CreateForUpdateRegistry(MemoryRegistry())), "passed a registry that reports create for update"
        )
        #expect(failure.message.hasPrefix("RegistryConformance.watchEventSequence: registering the node again with changed metadata"), "\(failure)")
        #expect(failure.message.contains("update conformance-wsequence"), "\(failure)")
        let seen = try #require(failure.message.components(separatedBy: "saw [").last)
        #expect(occurrences(of: "create ", in: seen) == 2 && !seen.contains("update"), "\(failure)")
    }

    @Test func createReportedForAnUnchangedReregisterFails() async throws {
        let failure = try #require(try await failure(of: "watchReregisterUnchanged", CreateForUpdateRegistry(MemoryRegistry())))
        #expect(failure.message.contains("must give no event or at most one update with the same data per register"), "\(failure)")
    }

    @Test func createForUpdateRegistryPassesWhatItDoesNotBreak() async throws {
        #expect(try await failure(of: "watchCreate", CreateForUpdateRegistry(MemoryRegistry())) == nil)
        #expect(try await failure(of: "watchDeleteOnExpiry", CreateForUpdateRegistry(MemoryRegistry())) == nil)
    }

    @Test func keepAliveThatBreaksAfterTheFirstRenewalFails() async throws {
        let failure = try #require(
            try await failure(of: "reregisterKeepsAlive", BrokenKeepAliveRegistry(MemoryRegistry())),
            "passed a registry whose keep-alive breaks after the first renewal"
        )
        #expect(failure.message.hasPrefix("RegistryConformance.reregisterKeepsAlive: "), "\(failure)")
        #expect(failure.message.contains("another client missed the node") || failure.message.contains("no delete, no second create"), "\(failure)")
    }

    @Test func brokenKeepAliveRegistryPassesWhatItDoesNotBreak() async throws {
        // Registered once, or without a TTL, it behaves.
        #expect(try await failure(of: "ttlExpiry", BrokenKeepAliveRegistry(MemoryRegistry())) == nil)
        #expect(try await failure(of: "reregisterIsIdempotent", BrokenKeepAliveRegistry(MemoryRegistry())) == nil)
    }

    @Test func correctRegistryPassesTheCasesAbove() async throws {
        for name in ["watchEventSequence", "watchAllServices", "watchReregisterUnchanged", "reregisterKeepsAlive"] {
            let failure = try await failure(of: name, MemoryRegistry())
            #expect(failure == nil, "\(name): \(failure.map { "\($0)" } ?? "")")
        }
    }
}
