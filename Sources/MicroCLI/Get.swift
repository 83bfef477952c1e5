import ArgumentParser
import Foundation
import MicroCore

/// `micro get service NAME`: versions, nodes and endpoints of a service.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a service: `micro get service NAME`.")

    @Argument(help: "What to get: service.")
    var what: String

    @Argument(help: "The service name.")
    var name: String

    @Option(help: "Output format: table (default) or json (go-micro's registry records).")
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument {
        case table, json
    }

    func validate() throws {
        guard what == "service" else { throw ValidationError("can get 'service', not '\(what)'") }
    }

    func run() async throws {
        let runtime = try PluginFlags.runtime()
        let records = try await runtime.withStarted { try await runtime.registry.getService(name) }
        guard !records.isEmpty else {
            printError("service \(name) not found")
            throw ExitCode(1)
        }
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(records), as: UTF8.self))
        case .table:
            print(Get.table(records))
        }
    }

    /// A readable description of the records of one service.
    static func table(_ records: [ServiceRecord]) -> String {
        var lines = ["service  \(records.first?.name ?? "")"]
        for record in records {
            lines += ["", "version  \(record.version)", ""]
            let rows = [["ID", "ADDRESS", "METADATA"]] + record.nodes.map { node in
                [node.id, node.address, node.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]
            }
            lines += columns(rows)
            for endpoint in record.endpoints {
                lines += ["", "Endpoint: \(endpoint.name)"]
                if !endpoint.metadata.isEmpty {
                    lines.append("Metadata: " + endpoint.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
                }
                if let request = endpoint.request { lines += ["Request: " + describe(request, indent: "")] }
                if let response = endpoint.response { lines += ["Response: " + describe(response, indent: "")] }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `HelloRequest {` / `    name string` / `}`.
    static func describe(_ value: EndpointValue, indent: String) -> String {
        guard !value.values.isEmpty else { return value.type }
        let fields = value.values.map { "\(indent)    \($0.name) \(describe($0, indent: indent + "    "))" }
        return "\(value.type) {\n" + fields.joined(separator: "\n") + "\n\(indent)}"
    }

    /// Rows padded into columns.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
    }
}

/// Writes `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
