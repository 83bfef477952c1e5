import MicroCore
import Testing

@testable import Micro

@Suite struct RequestHeadersTests {
    @Test func readsTheProtocolHeadersByName() {
        let headers = RequestHeaders(Metadata(fields: [
            ("Micro-Service", "greeter"), ("Micro-Endpoint", "Greeter.Hello"), ("Micro-Method", "Greeter.Hello"),
            ("Micro-Id", "7"), ("Content-Type", "application/json"), ("Accept", "application/json"),
            ("Timeout", "5000000000"), ("Micro-Stream", "3"), ("Micro-Topic", "events"),
        ]))
        #expect(headers.endpoint == "Greeter.Hello")
        #expect(headers.method == "Greeter.Hello")
        #expect(headers.id == "7")
        #expect(headers.contentType == "application/json")
        #expect(headers.timeout == "5000000000")
        #expect(headers.stream == "3")
        #expect(headers.topic == "events")
        #expect(headers.metadata.isEmpty)
    }

    @Test func aMissingHeaderIsNil() {
        let headers = RequestHeaders(Metadata(fields: [("Micro-Endpoint", "Greeter.Hello")]))
        #expect(headers.endpoint == "Greeter.Hello")
        #expect(headers.method == nil)
        #expect(headers.id == nil)
        #expect(headers.stream == nil)
        #expect(headers.topic == nil)
        #expect(headers.contentType == nil)
        #expect(headers.timeout == nil)
        #expect(RequestHeaders(Metadata()).endpoint == nil)
    }

    @Test func namesCompareIgnoringCaseAndTheFirstOfEachWins() {
        let headers = RequestHeaders(Metadata(fields: [
            ("micro-endpoint", "First.Call"), ("MICRO-ENDPOINT", "Second.Call"), ("content-type", "application/proto"),
            ("Content-Type", "application/json"), ("micro-id", "1"), ("Micro-Id", "2"),
        ]))
        #expect(headers.endpoint == "First.Call")
        #expect(headers.contentType == "application/proto")
        #expect(headers.id == "1")
    }

    @Test func theCallersOwnHeadersAreMetadataInTheirOrder() {
        let headers = RequestHeaders(Metadata(fields: [
            ("Trace-Id", "abc"), ("Micro-Endpoint", "Greeter.Hello"), ("Micro-Service", "greeter"), ("Accept", "x"),
            ("X-Micro-Id", "7"), ("Micro-Error", "EOS"), ("User", "ada"), ("Trace-Id", "def"),
        ]))
        #expect(headers.endpoint == "Greeter.Hello")
        #expect(headers.metadata.map(\.name) == ["Trace-Id", "User", "Trace-Id"])
        #expect(headers.metadata.map(\.value) == ["abc", "ada", "def"])
    }

    @Test func aNameOfAProtocolLengthIsStillTheCallers() {
        // Same lengths as `Timeout`, `Micro-Id` and `Micro-Endpoint`.
        let headers = RequestHeaders(Metadata(fields: [("Timeout", "1"), ("Deadline", "2"), ("Tenant-Account", "3"), ("Timeouts", "4")]))
        #expect(headers.timeout == "1")
        #expect(headers.id == nil)
        #expect(headers.endpoint == nil)
        #expect(headers.metadata.map(\.name) == ["Deadline", "Tenant-Account", "Timeouts"])
    }
}

extension Metadata {
    /// Metadata holding `fields` as given, repeated names included.
    fileprivate init(fields: [(String, String)]) {
        self.init()
        for (name, value) in fields { append(name, value) }
    }
}
