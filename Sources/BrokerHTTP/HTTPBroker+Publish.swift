import AsyncHTTPClient
import Logging
public import MicroCore
import NIOCore
import NIOHTTP1

extension HTTPBroker {
    /// Where one POST goes.
    struct Target: Sendable {
        var id: String
        var address: String
        /// Registered with `secure=true`: POSTed over HTTPS.
        var secure = false
    }

    /// How one POST ended.
    enum Outcome: Sendable {
        /// 200: the subscriber acknowledged.
        case acknowledged
        /// 404, or 503 for a subscription that ended: the subscriber is gone (the
        /// registry cache has not caught up yet); nothing to retry there.
        case gone(String)
        /// Anything else: a connection failure or a non-200 answer.
        case failed(String)
    }

    /// Sends `message` to every broadcast subscriber of `topic` and to one member of each
    /// queue group (another member on failure, up to ``Configuration/publishAttempts``
    /// POSTs with backoff); returns when every one acknowledged. Succeeds when nobody is
    /// subscribed. With ``Configuration/fireAndForget`` it returns once the subscribers
    /// were found, and delivers in the background, logging what failed.
    ///
    /// The message travels as go-micro's: `POST /?id=<node-id>`, `Content-Type:
    /// application/json`, body `{"Header":{…},"Body":"<base64>"}` with the topic in the
    /// header map's `Micro-Topic`.
    ///
    /// - Throws: ``MicroCore/BrokerError`` `notDelivered` naming the subscribers and groups
    ///   that did not acknowledge, `unavailable` before ``start()``; the registry cache's
    ///   ``MicroCore/MicroError`` (503) when the registry cannot be reached and nothing is
    ///   cached.
    @discardableResult
    public func publish(_ topic: String, message: BrokerMessage) async throws -> BrokerReceipt {
        guard let client = state.withLock({ $0.client }) else {
            throw BrokerError(.unavailable, "the HTTP broker is not started; call start() (the runtime does) before publishing to \(topic)")
        }
        let (broadcast, groups) = try await targets(of: topic)
        guard !broadcast.isEmpty || !groups.isEmpty else { return BrokerReceipt() }
        var headers = message.headers
        headers[MicroHeader.topic] = topic
        let body = HTTPBrokerEnvelope(headers: headers, body: message.body).encoded()
        if configuration.fireAndForget {
            startInBackground {
                let (_, failures) = await self.deliver(body, broadcast: broadcast, groups: groups, client: client)
                if !failures.isEmpty {
                    self.logger.warning(
                        "a published message was not delivered",
                        metadata: ["topic": "\(topic)", "failures": "\(failures.sorted().joined(separator: "; "))"]
                    )
                }
            }
            return BrokerReceipt(subscribers: broadcast.count, groups: groups.count, acknowledged: false)
        }
        let (receipt, failures) = await deliver(body, broadcast: broadcast, groups: groups, client: client)
        if !failures.isEmpty {
            throw BrokerError(.notDelivered, "\(topic): not acknowledged by \(failures.sorted().joined(separator: "; "))")
        }
        return receipt
    }

    /// Runs `work` in a task that ``shutdown()`` cancels.
    private func startInBackground(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.nextBackground
            state.nextBackground &+= 1
            state.background[id] = Task {
                await work()
                _ = self.state.withLock { $0.background.removeValue(forKey: id) }
            }
        }
    }

    /// How a message fared at one broadcast subscriber or queue group.
    enum Delivery: Sendable {
        /// The subscriber, or a member of the group, acknowledged it.
        case acknowledged
        /// The subscriber, or every member of the group, had gone (unsubscribed): not a
        /// failure, and not counted.
        case gone
        /// It failed; what to report.
        case failed(String)
    }

    /// Delivers to every broadcast subscriber and every group concurrently; returns who
    /// acknowledged and what failed.
    private func deliver(
        _ body: ByteBuffer, broadcast: [Target], groups: [(String, [Target])], client: HTTPClient
    ) async -> (BrokerReceipt, failures: [String]) {
        await withTaskGroup(of: (isGroup: Bool, Delivery).self) { group in
            for target in broadcast {
                group.addTask { (false, await self.deliverBroadcast(body, to: target, client: client)) }
            }
            for (queue, members) in groups {
                group.addTask { (true, await self.deliverToGroup(body, queue: queue, members: members, client: client)) }
            }
            var receipt = BrokerReceipt()
            var failures: [String] = []
            for await (isGroup, delivery) in group {
                switch delivery {
                case .acknowledged where isGroup: receipt.groups += 1
                case .acknowledged: receipt.subscribers += 1
                case .gone: break
                case .failed(let failure): failures.append(failure)
                }
            }
            return (receipt, failures)
        }
    }

    /// The broadcast subscribers of `topic` and its queue groups (members shuffled), from
    /// the registry cache.
    func targets(of topic: String) async throws -> (broadcast: [Target], groups: [(String, [Target])]) {
        let records = try await registryCache.records(of: HTTPBroker.serviceName)
        var broadcast: [Target] = []
        var groups: [String: [Target]] = [:]
        for record in records {
            for node in record.nodes where node.metadata["broker"] == "http" && node.metadata["topic"] == topic {
                let target = Target(id: node.id, address: node.address, secure: node.metadata["secure"] == "true")
                if record.version == HTTPBroker.broadcastVersion {
                    broadcast.append(target)
                } else {
                    groups[record.version, default: []].append(target)
                }
            }
        }
        // Members at random, those that could not be reached lately last.
        let avoided = cooldown.avoided()
        return (broadcast, groups.map { queue, members in
            let shuffled = members.shuffled()
            return (queue, shuffled.filter { !avoided.contains($0.id) } + shuffled.filter { avoided.contains($0.id) })
        })
    }

    /// POSTs to one broadcast subscriber, again after a connection failure.
    private func deliverBroadcast(_ body: ByteBuffer, to target: Target, client: HTTPClient) async -> Delivery {
        var backoff = configuration.retryBackoff
        var attempt = 1
        while true {
            switch await post(body, to: target, client: client) {
            case .acknowledged: return .acknowledged
            case .gone(let reason):
                logger.debug("a broadcast subscriber is gone", metadata: ["node": "\(target.id)", "reason": "\(reason)"])
                return .gone
            case .failed(let reason):
                let retryable = reason.hasPrefix("connection")
                guard retryable, attempt < configuration.publishAttempts, !Task.isCancelled else {
                    return .failed("broadcast subscriber \(target.id) at \(target.address) (\(reason))")
                }
            }
            attempt += 1
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.maxRetryBackoff)
        }
    }

    /// POSTs to one member of a queue group, then to the next on failure, up to
    /// ``Configuration/publishAttempts`` POSTs.
    private func deliverToGroup(_ body: ByteBuffer, queue: String, members: [Target], client: HTTPClient) async -> Delivery {
        var members = members
        var errors: [String] = []
        var backoff = configuration.retryBackoff
        var attempt = 0
        var index = 0
        while !members.isEmpty, attempt < configuration.publishAttempts, !Task.isCancelled {
            if attempt > 0 {
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, configuration.maxRetryBackoff)
            }
            attempt += 1
            let member = members[index % members.count]
            switch await post(body, to: member, client: client) {
            case .acknowledged: return .acknowledged
            case .gone(let reason):
                logger.debug("a queue member is gone", metadata: ["node": "\(member.id)", "reason": "\(reason)"])
                members.remove(at: index % members.count)
                attempt -= 1
            case .failed(let reason):
                errors.append("\(member.id): \(reason)")
                index += 1
            }
        }
        if errors.isEmpty { return .gone }
        return .failed("queue group \(queue) (\(attempt) attempts: \(errors.joined(separator: ", ")))")
    }

    /// One POST, go-micro's shape, within the delivery timeout; failures counted.
    func post(_ body: ByteBuffer, to target: Target, client: HTTPClient) async -> Outcome {
        let outcome = await postOnce(body, to: target, client: client)
        let node = Node(id: target.id, address: target.address)
        switch outcome {
        case .acknowledged:
            cooldown.mark(node, error: nil)
        case .failed(let reason):
            state.withLock { $0.failedPosts += 1 }
            if reason.hasPrefix("connection") {
                cooldown.mark(node, error: TransportError(.connectFailed, reason))
            }
        case .gone:
            break
        }
        return outcome
    }

    private func postOnce(_ body: ByteBuffer, to target: Target, client: HTTPClient) async -> Outcome {
        let scheme = target.secure ? "https" : "http"
        var request = HTTPClientRequest(url: "\(scheme)://\(target.address)/?id=\(HTTPBroker.queryEscaped(target.id))")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swift-micro")
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(configuration.deliveryTimeout.nanoseconds))
            let status = response.status
            let text = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
            if status == .ok { return .acknowledged }
            let detail = text.trimmingWhitespace()
            if status == .notFound || (status == .serviceUnavailable && detail.hasPrefix("\(BrokerError.Code.unsubscribed.rawValue):")) {
                return .gone("\(status.code) \(detail)")
            }
            return .failed("\(status.code) \(detail)")
        } catch {
            return .failed("connection to \(target.address) failed: \(error)")
        }
    }
}

extension String {
    /// Without leading and trailing spaces and newlines.
    fileprivate func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
