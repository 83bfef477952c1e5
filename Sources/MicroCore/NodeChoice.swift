/// The filtering and picking every selector does.
public enum NodeChoice {
    /// Applies `options.filters`, drops `avoiding` unless that leaves nothing, and picks
    /// with `options.strategy` or `strategy`.
    ///
    /// - Throws: ``MicroError`` 404 `service NAME not found` when no node is left.
    public static func choose(
        _ service: String,
        from records: [ServiceRecord],
        options: SelectOptions,
        strategy: any SelectStrategy,
        avoiding: Set<String> = []
    ) throws -> Node {
        var records = records
        for filter in options.filters { records = filter(records) }
        // One record (one version registered, the usual case) needs no new array.
        var nodes = records.count == 1 ? records[0].nodes : records.flatMap(\.nodes)
        guard !nodes.isEmpty else { throw MicroError.notFound("service \(service) not found") }
        if !avoiding.isEmpty {
            let healthy = nodes.filter { !avoiding.contains($0.id) }
            if !healthy.isEmpty { nodes = healthy }
        }
        return (options.strategy ?? strategy).pick(from: nodes, service: service)
    }
}
