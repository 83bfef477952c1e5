import Foundation
import MicroCore
import MicroTesting
import Testing

/// The `greeter` and `micro` executables as separate processes over the file registry
/// and TCP: what a person does in the README's quick start.
@Suite(.serialized)
struct MicroCLITests {
    @Test func servicesListsTheGreeterAndCallReturnsTheGreeting() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let greeter = try await world.startGreeter()

        let services = try await world.micro(["services"])
        #expect(services.status == 0)
        // The greeter's subscriber registers with the http broker as go-micro's do.
        #expect(services.output == "greeter\nmicro.http.broker\n")
        #expect(try await world.micro(["list", "services"]).output == "greeter\nmicro.http.broker\n")

        let call = try await world.micro(["call", "greeter", "Greeter.Hello", #"{"name":"Ada"}"#])
        #expect(call.status == 0, "\(call.error)")
        #expect(call.output == "{\"msg\":\"Hello Ada\"}\n")

        let table = try await world.micro(["get", "service", "greeter"])
        #expect(table.status == 0)
        #expect(table.output.contains("Endpoint: Greeter.Hello"))
        #expect(table.output.contains("protocol=mucp"))

        let json = try await world.micro(["get", "service", "greeter", "--output", "json"])
        let records = try JSONDecoder().decode([ServiceRecord].self, from: Data(json.output.utf8))
        #expect(records.first?.nodes.count == 1)

        // Through the http broker (the default of both executables): acknowledged once the
        // greeter's subscriber has handled it.
        let published = try await world.micro(["publish", "greeter.greetings", #"{"name":"Bob"}"#])
        #expect(published.status == 0, "\(published.error)")
        #expect(published.output == "greeter.greetings: 1 subscriber and 0 queue groups acknowledged\n")
        try await waitFor("the greeter to log the event") { greeter.logText.contains("someone greeted Bob") }

        greeter.kill(signal: SIGTERM)
        #expect(try await greeter.waitForExit() == 0)
        #expect(try await world.registry.getService("greeter").isEmpty, "SIGTERM deregisters")
    }

    @Test func subscribePrintsEachEventAsAJSONLineAndDeregistersOnInterrupt() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let subscriber = try GreeterProcess(
            log: world.directory.appendingPathComponent("subscriber.log"),
            arguments: ["subscribe", "orders.created", "--queue", "billing"] + world.registryFlags, program: "micro"
        )
        defer { subscriber.kill(signal: SIGKILL) }
        try await waitFor("the subscriber to register with the http broker") {
            try await world.registry.getService("micro.http.broker").first?.nodes.first?.metadata["topic"] == "orders.created"
        }
        #expect(try await world.registry.getService("micro.http.broker").map(\.version) == ["billing"])
        let published = try await world.micro(["publish", "orders.created", #"{"id":7}"#, "--metadata", "X-Trace=abc"])
        #expect(published.status == 0, "\(published.error)")
        #expect(published.output == "orders.created: 0 subscribers and 1 queue group acknowledged\n")
        // Acknowledged means printed: the line is there once publish returned.
        let line = try #require(subscriber.logText.split(separator: "\n").first { $0.hasPrefix("{") })
        let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(event["topic"] as? String == "orders.created")
        #expect((event["body"] as? [String: Any])?["id"] as? Int == 7)
        #expect((event["headers"] as? [String: String])?["X-Trace"] == "abc")
        subscriber.kill(signal: SIGINT)
        #expect(try await subscriber.waitForExit() == 0, "\(subscriber.logText)")
        #expect(try await world.registry.getService("micro.http.broker").isEmpty, "an interrupted subscriber deregisters")
    }

    @Test func callsSpreadOverTwoNodesAndSurviveAKilledOne() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let first = try await world.startGreeter(ttl: 3)
        let second = try await world.startGreeter(ttl: 3)
        let json = try await world.micro(["get", "service", "greeter", "--output", "json"])
        #expect(try JSONDecoder().decode([ServiceRecord].self, from: Data(json.output.utf8)).flatMap(\.nodes).count == 2)

        for _ in 0..<16 {
            let call = try await world.micro(["call", "greeter", "Greeter.Hello", #"{"name":"Ada"}"#])
            #expect(call.status == 0, "\(call.error)")
        }
        #expect(first.helloCount > 0 && second.helloCount > 0, "calls spread: \(first.helloCount) and \(second.helloCount)")
        #expect(first.helloCount + second.helloCount == 16)

        first.kill(signal: SIGKILL)
        _ = try await first.waitForExit()
        let killedAt = ContinuousClock.now
        // Watched in this process while the calls run: how long the twelve `micro call`
        // launches take on a loaded machine does not count against the expiry.
        let registry = world.registry
        let expiry = Task {
            try await waitFor("the killed node to expire", timeout: .seconds(3 + 10)) {
                try await registry.getService("greeter").flatMap(\.nodes).count == 1
            }
            return ContinuousClock.now - killedAt
        }
        defer { expiry.cancel() }
        for _ in 0..<12 {
            let call = try await world.micro(["call", "greeter", "Greeter.Hello", #"{"name":"Ada"}"#])
            #expect(call.status == 0, "a retry goes to the live node: \(call.error)")
        }
        let expiredAfter = try await expiry.value
        // Its last heartbeat was at most 1 s before the kill, so it is gone within the 3 s
        // TTL; the rest is polling and a loaded machine.
        #expect(expiredAfter < .seconds(3 + 3), "gone within its 3 s TTL; took \(expiredAfter)")
        let table = try await world.micro(["get", "service", "greeter", "--output", "json"])
        #expect(try JSONDecoder().decode([ServiceRecord].self, from: Data(table.output.utf8)).flatMap(\.nodes).count == 1)
    }

    @Test func badUsageGetsAUsageMessageNotATrace() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let unknown = try await world.micro(["frobnicate"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("Usage"))
        let missing = try await world.micro(["call", "greeter"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("Missing expected argument"))
        let badJSON = try await world.micro(["call", "greeter", "Greeter.Hello", "{nope"])
        #expect(badJSON.status != 0)
        #expect(badJSON.error.contains("not valid JSON"))
        let badRegistry = try await run(try executable("micro"), ["services", "--registry", "consul"])
        #expect(badRegistry.status != 0)
        #expect(badRegistry.error.contains("registry 'consul': unknown; linked registries: etcd, file, memory"))
        let noService = try await world.micro(["call", "nobody", "X.Y", "{}"])
        #expect(noService.status == 1)
        #expect(noService.error.contains("service nobody not found"))
    }
}
