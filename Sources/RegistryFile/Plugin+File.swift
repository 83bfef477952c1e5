public import MicroCore

extension Plugin {
    /// The file registry (`--registry file`, the default registry): one JSON file per node
    /// in a directory shared by every process on this machine.
    ///
    /// `--registry_address` (`MICRO_REGISTRY_ADDRESS`) names the directory; the first
    /// entry of the list is used. Without it the directory is
    /// ``FileRegistry/defaultDirectory(environment:userID:)``. Making the plugin fails with
    /// a ``FileRegistryError`` naming the path when the directory cannot be created.
    public static let file: Plugin = .registry(
        "file",
        summary: "one JSON file per node in a local directory (no daemon); --registry_address names the directory",
        make: { context in
            var configuration = FileRegistry.Configuration(logger: context.logger)
            if let directory = context.options.list(OptionKey.registryAddress.name).first {
                configuration.directory = directory
            }
            let registry = FileRegistry(configuration: configuration)
            try registry.prepare()
            return registry
        }
    )
}
