import MicroCore
import Testing

@Suite("HostPort")
struct HostPortTests {
    @Test("host:port and [v6]:port")
    func hostAndPort() throws {
        #expect(try HostPort(parsing: "127.0.0.1:8080") == HostPort(host: "127.0.0.1", port: 8080))
        #expect(try HostPort(parsing: "[::1]:80") == HostPort(host: "::1", port: 80))
        #expect(try HostPort(parsing: "[fe80::1%eth0]:80").host == "fe80::1%eth0")
        #expect(try HostPort(parsing: "example.com:65535") == HostPort(host: "example.com", port: 65535))
    }

    @Test("a default port fills in a missing one and lets a bare IPv6 address stand")
    func defaultPort() throws {
        #expect(try HostPort(parsing: "etcd", defaultPort: 2379) == HostPort(host: "etcd", port: 2379))
        #expect(try HostPort(parsing: "etcd:1", defaultPort: 2379) == HostPort(host: "etcd", port: 1))
        #expect(try HostPort(parsing: "[::1]", defaultPort: 2379) == HostPort(host: "::1", port: 2379))
        #expect(try HostPort(parsing: "::1", defaultPort: 2379) == HostPort(host: "::1", port: 2379))
        #expect(throws: HostPort.ParseError.self) { try HostPort(parsing: "etcd") }
    }

    @Test("an empty host and port 0 only where allowed")
    func anyHostAndPortZero() throws {
        #expect(try HostPort(parsing: ":8080", anyHost: "0.0.0.0") == HostPort(host: "0.0.0.0", port: 8080))
        #expect(try HostPort(parsing: "127.0.0.1:0", allowsPortZero: true).port == 0)
        #expect(throws: HostPort.ParseError.self) { try HostPort(parsing: ":8080") }
        #expect(throws: HostPort.ParseError.self) { try HostPort(parsing: "127.0.0.1:0") }
    }

    @Test("description writes brackets around IPv6 and parses back")
    func roundTrip() throws {
        for text in ["127.0.0.1:8080", "[::1]:80", "host:1", "[2001:db8::2]:65535"] {
            let address = try HostPort(parsing: text)
            #expect(address.description == text)
            #expect(try HostPort(parsing: address.description) == address)
        }
    }

    @Test("errors say what is wrong and which form is expected", arguments: [
        ("", "the address is empty"),
        ("127.0.0.1", "no port"),
        ("127.0.0.1:", "the port '' is not a number from 1 to 65535"),
        ("127.0.0.1:http", "the port 'http' is not a number"),
        ("127.0.0.1:65536", "the port '65536' is not a number"),
        ("127.0.0.1:-1", "the port '-1' is not a number"),
        ("::1:80", "an IPv6 address needs brackets"),
        ("[::1", "'[' without ']'"),
        ("[::1]80", "'80' after ']'"),
        ("[]:80", "no host between the brackets"),
        ("host name:80", "has characters a host cannot have"),
        ("a/b:80", "has characters a host cannot have"),
        (":80", "no host"),
        ("127.0.0.1:0", "port 0 cannot be used here"),
    ])
    func errors(text: String, reason: String) {
        do {
            let address = try HostPort(parsing: text)
            Issue.record("accepted '\(text)' as \(address)")
        } catch {
            #expect(error.text == text)
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.description.hasPrefix("'\(text)': "))
            #expect(error.description.contains("expected host:port, such as 127.0.0.1:8080 or [::1]:8080"), "\(error)")
        }
    }

    @Test("the expected form follows the options")
    func expectedForm() {
        do {
            _ = try HostPort(parsing: "a:b", defaultPort: 2379, anyHost: "0.0.0.0")
            Issue.record("accepted 'a:b'")
        } catch {
            #expect(error.expected.contains("port 2379 when left out"))
            #expect(error.expected.contains(":port for every interface"))
        }
    }
}
