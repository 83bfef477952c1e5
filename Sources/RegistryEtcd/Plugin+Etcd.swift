public import MicroCore

extension Plugin {
    /// The etcd registry (``EtcdRegistry``), named `etcd`: go-micro's etcd layout over
    /// etcd v3's HTTP gateway.
    ///
    /// `--registry_address` (`MICRO_REGISTRY_ADDRESS`) lists the endpoints, comma-separated
    /// (`host:port` or `http(s)://host:port`; default `127.0.0.1:2379`). Options:
    /// `etcd_username`, `etcd_password` (else `ETCD_USERNAME`, `ETCD_PASSWORD`),
    /// `etcd_timeout`, `etcd_tls_ca_file`, `etcd_tls_insecure` (see
    /// ``EtcdRegistry/Configuration``). Making the plugin does not contact etcd; the first
    /// call does.
    public static let etcd: Plugin = .registry(
        "etcd",
        summary: "etcd v3 over its HTTP gateway, go-micro's layout; --registry_address lists the endpoints",
        options: EtcdRegistry.Configuration.optionKeys
    ) { context in
        try EtcdRegistry(configuration: EtcdRegistry.Configuration(options: context.options, logger: context.logger))
    }
}
