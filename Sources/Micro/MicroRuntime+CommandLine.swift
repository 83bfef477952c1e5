public import Logging
public import MicroCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MicroRuntime {
    /// The runtime of an executable's `main`, made from this process's flags and
    /// environment, answering the command line as command-line tools do:
    /// - `--help` prints the linked plugins' flags (with their `MICRO_…` variables and
    ///   defaults) and `--version` the version, on standard output, and exit 0;
    /// - an unknown flag (naming the nearest known one), a bad option value or an unknown
    ///   plugin name is written to standard error with a pointer to `--help`, and exits
    ///   64 (a usage error).
    ///
    /// ```swift
    /// @main struct Greeter {
    ///     static func main() async throws {
    ///         let runtime = MicroRuntime.commandLine(plugins: Plugins([.file, .tcp, .json, .cache]))
    ///         try await MicroService(name: "greeter", router: router, runtime: runtime).serve()
    ///     }
    /// }
    /// ```
    ///
    /// For anything else (tests, programs that parse their own command line) use
    /// ``init(plugins:options:clientInterceptors:logger:)``, which throws instead.
    ///
    /// - Parameters:
    ///   - plugins: the linked plugins; their option keys are the flags.
    ///   - program: the name in help, version and error texts; the executable's by default.
    ///   - clientInterceptors: wrap every call the client makes, the first outermost.
    ///   - logger: the logger for the backends.
    public static func commandLine(
        plugins: Plugins,
        program: String = MicroOptions.programName,
        clientInterceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "micro")
    ) -> MicroRuntime {
        func usageError(_ message: String) -> Never {
            writeAll("\(program): \(message)\nSee \(program) --help for the flags.\n", to: 2)
            exit(64)
        }
        do {
            return try MicroRuntime(plugins: plugins, clientInterceptors: clientInterceptors, logger: logger)
        } catch let request as CommandLineRequest {
            writeAll(request.text + "\n", to: 1)
            exit(0)
        } catch let error as UnknownFlagError {
            usageError(error.description)
        } catch let error as OptionError {
            usageError(error.description)
        } catch let error as PluginError {
            usageError(error.description)
        } catch {
            usageError("\(error)")
        }
    }
}

/// Writes `text` to the file descriptor `descriptor`, all of it unless it fails.
private func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let written = write(descriptor, base + offset, bytes.count - offset)
            guard written > 0 else { return }
            offset += written
        }
    }
}
