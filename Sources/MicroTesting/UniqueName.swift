/// A name no other test or run uses: `<stem>-<random base 36>`, such as
/// `greeter-3kq8v0d1xz2mf`.
///
/// Tests that share a store (one etcd, one registry directory, a broker) name their
/// services and topics with it, so they can run in parallel and after each other
/// without seeing each other's records.
public func uniqueName(_ stem: String) -> String {
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    return "\(stem)-\(suffix)"
}
