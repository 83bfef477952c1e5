/// A broker could not deliver a message, or a subscription refused one.
public struct BrokerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The subscription no longer takes deliveries (unsubscribed, cancelled or
        /// dropped); a publisher offers the message to another member.
        case unsubscribed
        /// The subscription's buffer is full: its consumer is too slow. A publisher
        /// offers the message to another member, or fails.
        case busy
        /// The consumer dropped a delivery without acknowledging or rejecting it.
        case notAcknowledged
        /// The subscriber did not acknowledge in time.
        case timedOut
        /// ``Broker/publish(_:message:)``: some subscribers or queue groups did not
        /// acknowledge.
        case notDelivered
        /// The broker cannot work: not started, shut down, or misconfigured.
        case unavailable
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, naming the topic and subscriber where known, and what to do.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `busy: …`
    public var description: String { "\(code.rawValue): \(message)" }
}
