import MicroCore

/// Wraps the handling of every call a server answers: read or change metadata, time,
/// log, authorise (throw a ``MicroError``), or map errors.
///
/// Interceptors run in the order they were added: the first is the outermost, as with
/// go-micro's wrappers.
public protocol ServerInterceptor: Sendable {
    /// Handles the call by calling `next` (possibly with a changed context) or refuses it
    /// by throwing.
    func intercept(_ context: ServerContext, next: (ServerContext) async throws -> Void) async throws
}

/// Wraps every outgoing call and publish of a client: add metadata, log, measure.
///
/// Interceptors run in the order they were added: the first is the outermost. They wrap
/// the whole call, retries included.
public protocol ClientInterceptor: Sendable {
    /// Makes the call by calling `next` (possibly with a changed context) or refuses it by
    /// throwing.
    func intercept(_ context: ClientContext, next: (ClientContext) async throws -> Void) async throws
}

extension Array where Element == any ServerInterceptor {
    /// Runs `body` inside every interceptor, the first outermost.
    func run(_ context: ServerContext, _ body: (ServerContext) async throws -> Void) async throws {
        try await run(from: startIndex, context, body)
    }

    private func run(from index: Int, _ context: ServerContext, _ body: (ServerContext) async throws -> Void) async throws {
        guard index < endIndex else { return try await body(context) }
        try await self[index].intercept(context) { try await run(from: index + 1, $0, body) }
    }
}

extension Array where Element == any ClientInterceptor {
    /// Runs `body` inside every interceptor, the first outermost.
    func run(_ context: ClientContext, _ body: (ClientContext) async throws -> Void) async throws {
        try await run(from: startIndex, context, body)
    }

    private func run(from index: Int, _ context: ClientContext, _ body: (ClientContext) async throws -> Void) async throws {
        guard index < endIndex else { return try await body(context) }
        try await self[index].intercept(context) { try await run(from: index + 1, $0, body) }
    }
}
