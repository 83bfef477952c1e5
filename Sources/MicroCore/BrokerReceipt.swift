/// What a publish reached: how many broadcast subscribers and queue groups acknowledged
/// the message.
public struct BrokerReceipt: Sendable, Hashable, CustomStringConvertible {
    /// The broadcast subscribers (no queue) that acknowledged.
    public var subscribers: Int
    /// The queue groups of which one member acknowledged.
    public var groups: Int
    /// Whether the publish waited for the acknowledgements; `false` when the broker only
    /// sent the message (a fire-and-forget option), and then the counts are of those it
    /// was sent to.
    public var acknowledged: Bool

    /// Creates a receipt.
    public init(subscribers: Int = 0, groups: Int = 0, acknowledged: Bool = true) {
        self.subscribers = subscribers
        self.groups = groups
        self.acknowledged = acknowledged
    }

    /// `2 subscribers and 1 queue group acknowledged`
    public var description: String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        return "\(count(subscribers, "subscriber")) and \(count(groups, "queue group")) \(acknowledged ? "acknowledged" : "sent to, not awaited")"
    }
}
