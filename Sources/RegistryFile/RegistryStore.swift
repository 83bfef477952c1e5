#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MicroCore

/// What identifies one version of a node file: a rewrite (temp file renamed over the
/// target) always gives a new inode, so comparing signatures finds every change without
/// reading the file.
struct FileSignature: Sendable, Hashable {
    var inode: UInt64
    var size: Int64
    var mtimeSeconds: Int
    var mtimeNanoseconds: Int
    var ctimeSeconds: Int
    var ctimeNanoseconds: Int
}

/// One node file found by a directory scan.
struct NodeFile: Sendable, Hashable {
    /// The escaped service directory name.
    var serviceDirectory: String
    /// The file name, `<escaped node id>.json`.
    var fileName: String
    /// The file's signature when it was scanned.
    var signature: FileSignature

    /// `<service dir>/<file>` relative to the registry root: the key of a node file.
    var key: String { serviceDirectory + "/" + fileName }
}

/// The file layout and the file calls of a ``FileRegistry``: `<root>/<service>/<node>.json`.
///
/// Every method is a short blocking file-system call on a local directory; nothing is
/// cached, so any number of processes may share the directory.
struct RegistryStore: Sendable {
    /// The registry directory.
    let root: String
    /// Where skipped files and failures are logged.
    let logger: Logger

    /// Files larger than this are not node records and are skipped.
    static let maximumFileSize: Int64 = 4 << 20
    /// The longest file name most Linux file systems accept.
    static let maximumNameLength = 255

    // MARK: names

    /// Escapes `name` into one safe path component: ASCII letters, digits, `-`, `_` and
    /// `.` stay (a leading `.` does not), every other byte becomes `%XX`. The result never
    /// contains `/`, is never `.` or `..`, and never starts with `.` (temp files do).
    static func escape(_ name: String) -> String {
        var result = ""
        result.reserveCapacity(name.utf8.count)
        for (index, byte) in name.utf8.enumerated() {
            let isSafe: Bool
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                isSafe = true
            case UInt8(ascii: "."):
                isSafe = index > 0
            default:
                isSafe = false
            }
            if isSafe {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + hexDigit(byte >> 4) + hexDigit(byte & 0x0F)
            }
        }
        return result
    }

    private static func hexDigit(_ value: UInt8) -> String {
        String(UnicodeScalar(value < 10 ? 0x30 + value : 0x41 + value - 10))
    }

    /// The escaped directory name of service `name`.
    ///
    /// - Throws: ``FileRegistryError`` `invalidName` when the name is empty or too long.
    static func serviceDirectoryName(_ name: String) throws -> String {
        guard !name.isEmpty else {
            throw FileRegistryError(code: .invalidName, message: "a service name must not be empty")
        }
        let escaped = escape(name)
        guard escaped.utf8.count <= maximumNameLength else {
            throw FileRegistryError(
                code: .invalidName,
                message: "service name '\(name.prefix(40))…' is too long (escaped it must fit \(maximumNameLength) bytes)"
            )
        }
        return escaped
    }

    /// The file name of node `id`: `<escaped id>.json`.
    ///
    /// - Throws: ``FileRegistryError`` `invalidName` when the id is empty or too long.
    static func nodeFileName(_ id: String, service: String) throws -> String {
        guard !id.isEmpty else {
            throw FileRegistryError(code: .invalidName, message: "a node id of service '\(service)' is empty; every node needs an id")
        }
        let escaped = escape(id) + ".json"
        guard escaped.utf8.count <= maximumNameLength else {
            throw FileRegistryError(
                code: .invalidName,
                message: "node id '\(id.prefix(40))…' is too long (escaped it must fit \(maximumNameLength - 5) bytes)"
            )
        }
        return escaped
    }

    /// Whether `fileName` names a node file (not a temp file, not something else).
    static func isNodeFileName(_ fileName: String) -> Bool {
        !fileName.hasPrefix(".") && fileName.hasSuffix(".json") && fileName.utf8.count > 5
    }

    func path(_ serviceDirectory: String) -> String { root + "/" + serviceDirectory }
    func path(_ serviceDirectory: String, _ fileName: String) -> String { root + "/" + serviceDirectory + "/" + fileName }

    // MARK: directories

    /// Creates the registry directory and its missing parents with mode 0700.
    ///
    /// - Throws: ``FileRegistryError`` `directory` naming the path when it cannot be made
    ///   or is not a directory.
    func createRoot() throws {
        try Self.makeDirectories(root)
    }

    /// Warns when the registry directory belongs to another user or is open to others:
    /// in a shared `/tmp`, someone else could have made it to read or forge records.
    func checkOwnership() {
        var info = stat()
        guard stat(root, &info) == 0 else { return }
        if info.st_uid != getuid() {
            logger.warning(
                "the registry directory belongs to another user; its records may be forged by them",
                metadata: ["path": "\(root)", "owner": "\(info.st_uid)"]
            )
        } else if info.st_mode & 0o022 != 0 {
            logger.warning(
                "the registry directory is writable by others; chmod 700 it",
                metadata: ["path": "\(root)"]
            )
        }
    }

    static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty else {
            throw FileRegistryError(code: .directory, message: "the registry directory is empty; set Configuration.directory or --registry_address")
        }
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw FileRegistryError(
                    code: .directory, path: path,
                    message: "exists but is not a directory; remove it or choose another directory (--registry_address)"
                )
            }
            return
        }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 {
                let code = errno
                if code == EEXIST {
                    var existing = stat()
                    if stat(prefix, &existing) == 0, (existing.st_mode & S_IFMT) == S_IFDIR { continue }
                    throw FileRegistryError(
                        code: .directory, path: prefix,
                        message: "exists but is not a directory, so registry directory \(path) cannot be created; choose another directory (--registry_address)"
                    )
                }
                throw FileRegistryError(
                    code: .directory, path: path,
                    message: "cannot be created (\(prefix): \(describe(code))); check its permissions or choose another directory (--registry_address)"
                )
            }
        }
    }

    /// The names of the entries of directory `path` (without `.` and `..`); empty when
    /// the directory does not exist.
    ///
    /// - Throws: ``FileRegistryError`` `directory` when it exists but cannot be read.
    func entries(of path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return [] }
            throw FileRegistryError(code: .directory, path: path, message: "cannot be read: \(Self.describe(code))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// The escaped names of every service directory.
    func serviceDirectories() throws -> [String] {
        try entries(of: root).filter { !$0.hasPrefix(".") }
    }

    /// The node files of one service directory with their signatures; files that vanish
    /// while scanning are left out.
    func nodeFiles(in serviceDirectory: String) throws -> [NodeFile] {
        let directoryPath = path(serviceDirectory)
        var files: [NodeFile] = []
        for name in try entries(of: directoryPath) where Self.isNodeFileName(name) {
            guard let signature = signature(of: directoryPath + "/" + name) else { continue }
            files.append(NodeFile(serviceDirectory: serviceDirectory, fileName: name, signature: signature))
        }
        return files
    }

    /// The signature of the regular file at `path`, or `nil` when there is none.
    /// Symbolic links are not followed: a link is not a node file.
    func signature(of path: String) -> FileSignature? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileSignature(
            inode: UInt64(info.st_ino),
            size: Int64(info.st_size),
            mtimeSeconds: Int(info.st_mtim.tv_sec),
            mtimeNanoseconds: Int(info.st_mtim.tv_nsec),
            ctimeSeconds: Int(info.st_ctim.tv_sec),
            ctimeNanoseconds: Int(info.st_ctim.tv_nsec)
        )
    }

    // MARK: reading

    /// What reading a node file gave.
    enum ReadResult: Sendable {
        /// A valid record.
        case record(NodeEnvelope)
        /// The file is gone (deregistered or swept while we looked).
        case missing
        /// The file is not a node record of this directory; `reason` says why.
        case invalid(reason: String)
    }

    /// Reads and checks one node file: it must decode, hold exactly one node, and its
    /// service name and node id must map to the file's own place.
    func read(_ file: NodeFile) -> ReadResult {
        let filePath = path(file.serviceDirectory, file.fileName)
        let bytes: [UInt8]
        switch readBytes(filePath) {
        case .success(let read?): bytes = read
        case .success(nil): return .missing
        case .failure(let failure): return .invalid(reason: failure.reason)
        }
        let envelope: NodeEnvelope
        do {
            envelope = try JSONDecoder().decode(NodeEnvelope.self, from: Data(bytes))
        } catch {
            return .invalid(reason: "not a node record: \(error)")
        }
        guard envelope.service.nodes.count == 1, let node = envelope.node else {
            return .invalid(reason: "holds \(envelope.service.nodes.count) nodes, not exactly one")
        }
        guard Self.escape(envelope.service.name) == file.serviceDirectory,
            Self.escape(node.id) + ".json" == file.fileName
        else {
            return .invalid(reason: "names service '\(envelope.service.name)' node '\(node.id)', which belongs elsewhere")
        }
        return .record(envelope)
    }

    /// The bytes of `path`; `nil` when it does not exist; a reason when it cannot be read.
    private func readBytes(_ path: String) -> Result<[UInt8]?, ReadFailure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .success(nil) }
            if code == ELOOP { return .failure(ReadFailure("is a symbolic link")) }
            return .failure(ReadFailure("cannot be opened: \(Self.describe(code))"))
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failure(ReadFailure("cannot be read: \(Self.describe(code))"))
            }
            bytes.append(contentsOf: chunk[0..<count])
            if Int64(bytes.count) > Self.maximumFileSize {
                return .failure(ReadFailure("is larger than \(Self.maximumFileSize) bytes"))
            }
        }
        return .success(bytes)
    }

    // MARK: writing

    /// Writes `envelope` to its node file atomically: a uniquely named temp file in the
    /// same directory, then rename(2) over the target, so a reader sees the old or the new
    /// record, never a mix.
    func write(_ envelope: NodeEnvelope, serviceDirectory: String, fileName: String) throws {
        let data: Data
        do {
            data = try JSONEncoder().encode(envelope)
        } catch {
            throw FileRegistryError(code: .encoding, message: "cannot encode service '\(envelope.service.name)': \(error)")
        }
        let directoryPath = path(serviceDirectory)
        let target = directoryPath + "/" + fileName
        // The service directory may be missing, or removed by another process's
        // deregister between our mkdir and our open: make it and try again.
        var attempt = 0
        while true {
            attempt += 1
            let temp = directoryPath + "/" + Self.tempName()
            let descriptor = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor < 0 {
                let code = errno
                if (code == ENOENT || code == EEXIST) && attempt < 8 {
                    if code == ENOENT {
                        try Self.makeDirectories(directoryPath)
                    }
                    continue
                }
                throw FileRegistryError(code: .io, path: temp, message: "cannot create a temp file: \(Self.describe(code)); check the directory's permissions")
            }
            do {
                try Self.writeAll(data, to: descriptor, path: temp)
            } catch {
                close(descriptor)
                unlink(temp)
                throw error
            }
            close(descriptor)
            if rename(temp, target) != 0 {
                let code = errno
                unlink(temp)
                throw FileRegistryError(code: .io, path: target, message: "cannot be replaced: \(Self.describe(code))")
            }
            return
        }
    }

    private static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw FileRegistryError(code: .io, path: path, message: "cannot be written: \(describe(code))")
                }
                offset += written
            }
        }
    }

    /// `.tmp-<pid>-<random>`: starts with `.` so scans skip it; short so any node id fits.
    private static func tempName() -> String {
        ".tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }

    // MARK: removing

    /// Removes a node file; a file already gone is fine. Then removes the service
    /// directory if it is now empty (another process writing there re-creates it).
    func remove(serviceDirectory: String, fileName: String) throws {
        let target = path(serviceDirectory, fileName)
        if unlink(target) != 0 {
            let code = errno
            if code != ENOENT {
                throw FileRegistryError(code: .io, path: target, message: "cannot be removed: \(Self.describe(code))")
            }
        }
        removeServiceDirectoryIfEmpty(serviceDirectory)
    }

    /// Removes the service directory when it holds nothing; ENOTEMPTY/ENOENT are fine.
    func removeServiceDirectoryIfEmpty(_ serviceDirectory: String) {
        _ = rmdir(path(serviceDirectory))
    }

    /// Removes an expired node file, unless it changed since it was read (a new
    /// registration renamed over it). Vanished files are fine.
    func sweep(_ file: NodeFile) {
        let target = path(file.serviceDirectory, file.fileName)
        guard signature(of: target) == file.signature else { return }
        if unlink(target) == 0 {
            logger.debug("swept expired node file", metadata: ["path": "\(target)"])
            removeServiceDirectoryIfEmpty(file.serviceDirectory)
        } else if errno != ENOENT {
            logger.warning("cannot remove expired node file", metadata: ["path": "\(target)", "error": "\(Self.describe(errno))"])
        }
    }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text) + " (errno \(code))"
    }
}

/// Why a file could not be read.
struct ReadFailure: Error, Sendable, ExpressibleByStringLiteral {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    init(stringLiteral value: String) { reason = value }
}

/// read(2), named apart from ``RegistryStore/read(_:)``.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// write(2), named apart from ``RegistryStore/write(_:serviceDirectory:fileName:)``.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
