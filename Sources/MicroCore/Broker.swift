/// Carries events from publishers to subscribers, with acknowledgement.
///
/// Subscribers with no queue (broadcast subscribers) each get every message of their
/// topic. Subscribers that share a queue name form a group: each message reaches one
/// member of the group. Backends: `MemoryBroker` (one process), `HTTPBroker`. Every
/// backend passes `BrokerConformance` from `MicroTesting`.
///
/// The contract:
/// - **Acknowledgement.** A subscriber takes ``BrokerDelivery``s from its
///   ``BrokerSubscription`` and settles each: ``BrokerDelivery/acknowledge()`` once its
///   handler returned, ``BrokerDelivery/reject(_:)`` when it threw. A rejected (or
///   dropped, or timed-out) delivery to a queue member is offered to another member of
///   its group; ``publish(_:message:)`` returns once every broadcast subscriber and one
///   member of every queue group acknowledged, and throws ``BrokerError`` naming those
///   that did not. A delivery may therefore arrive more than once (at least once within
///   a group while a member lives).
/// - **Bounded buffering.** A subscription holds at most a fixed number of deliveries
///   its consumer has not taken yet; past that, deliveries to it fail at once
///   (``BrokerError/Code-swift.enum/busy``), so a slow subscriber slows or fails its
///   publishers and never grows memory without bound. A networked broker may push back
///   earlier, through the concurrency of its own connections (publishes then wait, up to
///   their delivery timeout, rather than fail).
/// - **Ending.** ``BrokerSubscription/unsubscribe()`` stops new deliveries (a broker
///   that registers subscribers deregisters it) and lets the consumer finish the
///   deliveries already buffered; cancelling the consuming task, or dropping the
///   subscription, ends it at once, rejecting what was buffered.
/// - **Lifecycle.** A broker that holds resources (a listener, registrations) acquires
///   them in ``PluginLifecycle/start()`` and releases them in
///   ``PluginLifecycle/shutdown()``, which also ends the subscriptions still open.
///
/// A backend builds each subscription with
/// ``BrokerSubscription/makeSubscription(topic:queue:capacity:onEnd:)`` and delivers to
/// it through the returned ``BrokerSubscription/Inbox``, which waits for the
/// acknowledgement: the contract's bookkeeping is written once, here.
public protocol Broker: PluginLifecycle {
    /// Sends `message` to every broadcast subscriber of `topic` and to one member of each
    /// of its queue groups; returns when each has acknowledged it, saying how many did.
    /// Succeeds when nobody is subscribed (a receipt of zeros).
    ///
    /// - Throws: ``BrokerError`` with code `notDelivered` naming the subscribers or
    ///   groups that did not acknowledge (after other members of a group were tried).
    @discardableResult
    func publish(_ topic: String, message: BrokerMessage) async throws -> BrokerReceipt

    /// Subscribes to `topic`, in queue group `queue` if given (`nil` or empty: a
    /// broadcast subscriber).
    ///
    /// The subscription is live when this returns: a message published after it returns
    /// is delivered to it. (For a broker whose publishers find subscribers through a
    /// registry, that holds for publishers in this process; others see the subscriber
    /// once their registry watch reports it.)
    func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription
}
