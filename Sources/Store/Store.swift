// The site's model store, in `<state>/store`: model blobs and the catalog, all sealed with the store key
// (XChaCha20-Poly1305, SealedFile.swift), written to a temporary file, fsynced, renamed into place and the
// directory fsynced. A change becomes visible with one rename of the catalog, so a process killed at any point
// leaves the old state or the new one; at open, temporary files and blobs no catalog names are removed.
//
//   store/key-check   a known text sealed with the key: a wrong key is refused before anything is touched
//   store/catalog     the catalog (StoreCatalog)
//   store/blobs/<64 hex>   a model, named by a keyed digest of its SHA-256
import Bundles
import FoundationEssentials
import JSON
import Platform
import Sodium
import Synchronization

public final class Store: Sendable {
    public let directory: String
    let encryptionKey: SecureBytes
    let namingKey: SecureBytes
    private let state: Mutex<StoreCatalog>
    /// Blobs being written by an install in progress (never collected).
    private let writing = Mutex<Set<String>>([])

    static let keyCheckText = Array("outpost store v1".utf8)

    /// Opens (or creates) the store under `stateDirectory` with `key`. Refuses a key that did not make the store,
    /// changing nothing.
    public init(stateDirectory: String, key: SecureBytes) throws(StoreError) {
        directory = stateDirectory + "/store"
        do {
            encryptionKey = try KeyDerivation.subkey(of: key, context: "store-encryption")
            namingKey = try KeyDerivation.subkey(of: key, context: "store-names")
        } catch {
            throw StoreError("\(error)")
        }
        do {
            try FileSystem.makeDirectory(stateDirectory, mode: 0o750, existingIsFine: true)
            try FileSystem.makeDirectory(directory, mode: 0o700, existingIsFine: true)
            try FileSystem.makeDirectory(directory + "/blobs", mode: 0o700, existingIsFine: true)
        } catch {
            throw StoreError("cannot create the store in \(stateDirectory): \(error)")
        }
        let keyCheck = directory + "/key-check"
        let keyCheckIdentity = try Self.identity("key-check", namingKey)
        if (try? FileSystem.linkStatus(keyCheck)) == .some(nil) {
            guard (try? FileSystem.linkStatus(directory + "/catalog")) == .some(nil) else {
                throw StoreError("\(keyCheck) is missing beside a catalog; refusing to guess whether the key is right")
            }
            try Self.writeSealed(Self.keyCheckText, to: keyCheck, identity: keyCheckIdentity, key: encryptionKey)
        } else {
            let text: [UInt8]
            do {
                text = try SealedReader(path: keyCheck, identity: keyCheckIdentity).readAll(key: encryptionKey, limit: 1024)
            } catch {
                throw StoreError("the store key does not open the store in \(directory) (it was made with another key, or damaged); nothing was changed: \(error)")
            }
            guard text == Self.keyCheckText else { throw StoreError("\(keyCheck) holds unexpected text") }
        }
        let catalogPath = directory + "/catalog"
        var catalog = StoreCatalog()
        if (try? FileSystem.linkStatus(catalogPath)) != .some(nil) {
            let bytes = try SealedReader(path: catalogPath, identity: try Self.identity("catalog", namingKey))
                .readAll(key: encryptionKey, limit: StoreCatalog.maxBytes)
            do {
                catalog = try StoreCatalog(parsing: bytes)
            } catch {
                throw StoreError("the store's catalog does not parse: \(error.message)")
            }
        }
        state = Mutex(catalog)
        try removeLeftovers()
    }

    // MARK: - Reading

    public var catalog: StoreCatalog { state.withLock { $0 } }

    public func versions(of model: String? = nil) -> [VersionRecord] {
        state.withLock { catalog in
            catalog.models.keys.sorted().filter { model == nil || $0 == model }.flatMap { name in
                catalog.models[name]!.versions.sorted { $0.version < $1.version }
            }
        }
    }

    public func active(_ model: String) -> VersionRecord? {
        state.withLock { catalog in catalog.models[model].flatMap { m in m.active.flatMap { m.record($0) } } }
    }

    public func record(_ model: String, _ version: SemanticVersion) -> VersionRecord? {
        state.withLock { $0.models[model]?.record(version) }
    }

    /// The version a rollback of `model` goes to: the most recently active one before the current that is still
    /// installed and has not failed.
    public func rollbackTarget(_ model: String) -> VersionRecord? {
        state.withLock { catalog in
            guard let entry = catalog.models[model] else { return nil }
            for version in entry.history.dropLast().reversed() where version != entry.active {
                if let record = entry.record(version), record.status == .ready { return record }
            }
            return nil
        }
    }

    /// The path of a blob, for tests and audits.
    public func blobPath(_ record: VersionRecord) -> String { directory + "/blobs/" + record.blob }

    // MARK: - Installing

    /// Verifies the bundle `reader` holds (every check of `BundleVerifier`) while storing its model, and records it
    /// as a ready (not active) version. `minFreeBytes` of the file system must remain after it.
    public func install(_ reader: BundleReader, verifier: BundleVerifier, by actor: String, minFreeBytes: Int64 = 0,
                        now: Int64, progress: ((Int64, Int64) -> Void)? = nil) throws(StoreError) -> VersionRecord {
        let contents: BundleContents
        let manifest: BundleManifest
        let keyIDs: [String]
        do {
            contents = try BundleContents(reader)
            (manifest, keyIDs) = try verifier.verifySigned(contents)
        } catch {
            throw StoreError("the bundle was refused: \(error)")
        }
        if let existing = record(manifest.name, manifest.version) {
            throw StoreError("\(manifest.name) \(manifest.version) is already installed (\(existing.status.rawValue)); remove it first to reinstall")
        }
        let available = FileSystem.availableBytes(directory)
        if let available, available - manifest.model.size < minFreeBytes {
            throw StoreError("not enough space for \(manifest.name) \(manifest.version): \(manifest.model.size >> 20) MiB needed, "
                             + "\(available >> 20) MiB free, \(minFreeBytes >> 20) MiB to stay free ([store] min_free_mb)")
        }
        let name = try blobName(sha256: manifest.model.sha256)
        let final = directory + "/blobs/" + name
        let temporary = final + ".tmp-\(ProcessStats.pid)"
        writing.withLock { _ = $0.insert(name) }
        defer { writing.withLock { _ = $0.remove(name) } }
        try? FileSystem.remove(temporary)
        do {
            let writer = try SealedWriter(path: temporary, plaintextBytes: manifest.model.size, identity: try Self.hexBytes(name), key: encryptionKey)
            var hasher: SHA256
            do {
                hasher = try SHA256()
            } catch {
                throw StoreError("\(error)")
            }
            var failure: StoreError?
            let modelPath = Digest("sha256:" + manifest.model.sha256)!.blobPath
            guard let size = try? reader.size(of: modelPath), size == manifest.model.size else {
                throw StoreError("the bundle was refused: check 'model' failed: the model blob is missing or not \(manifest.model.size) bytes")
            }
            var done: Int64 = 0
            do {
                try reader.stream(modelPath, limit: manifest.model.size) { (chunk) throws(BundleError) in
                    hasher.update(chunk)
                    do throws(StoreError) { try writer.write(chunk) } catch {
                        failure = error
                        throw BundleError("write failed")
                    }
                    done += Int64(chunk.count)
                    progress?(done, manifest.model.size)
                }
            } catch {
                throw failure ?? StoreError("cannot read the bundle: \(error)")
            }
            let digest = Digest(sha256: hasher.finish())
            guard digest.hex == manifest.model.sha256 else {
                throw StoreError("the bundle was refused: check 'model' failed: the model's SHA-256 is \(digest.hex), bundle.json says \(manifest.model.sha256)")
            }
            try writer.finish()
            try FileSystem.rename(temporary, to: final)
            try FileSystem.syncDirectory(directory + "/blobs")
        } catch let error as StoreError {
            try? FileSystem.remove(temporary)
            throw error
        } catch {
            try? FileSystem.remove(temporary)
            throw StoreError("cannot store the model: \(error)")
        }
        let record = VersionRecord(model: manifest.name, version: manifest.version, bundleJSON: contents.bundleJSON,
                                   signatures: contents.signatures, signedBy: keyIDs, blob: name, modelSHA256: manifest.model.sha256,
                                   modelSize: manifest.model.size, installedAt: UTCTimestamp.format(wholeSeconds: now), installedBy: actor)
        try update { catalog throws(StoreError) in
            guard catalog.models[record.model]?.record(record.version) == nil else {
                throw StoreError("\(record.model) \(record.version) was installed meanwhile")
            }
            catalog.models[record.model, default: StoreCatalog.Model()].versions.append(record)
        }
        return record
    }

    // MARK: - Changing what is active

    /// Makes `version` of `model` the active one.
    public func activate(_ model: String, _ version: SemanticVersion, by actor: String, now: Int64) throws(StoreError) {
        try update { catalog throws(StoreError) in
            guard var entry = catalog.models[model], let index = entry.versions.firstIndex(where: { $0.version == version }) else {
                throw StoreError("\(model) \(version) is not installed")
            }
            guard entry.versions[index].status == .ready else {
                throw StoreError("\(model) \(version) failed its checks (\(entry.versions[index].failure ?? "")); reinstall it to try again")
            }
            entry.versions[index].activatedAt = UTCTimestamp.format(wholeSeconds: now)
            entry.versions[index].activatedBy = actor
            entry.active = version
            entry.history.removeAll { $0 == version }
            entry.history.append(version)
            catalog.models[model] = entry
        }
    }

    /// Marks a version failed (it is never activated again); when it was active, none is active afterwards (the
    /// caller activates the rollback target).
    public func markFailed(_ model: String, _ version: SemanticVersion, reason: String) throws(StoreError) {
        try update { catalog throws(StoreError) in
            guard var entry = catalog.models[model], let index = entry.versions.firstIndex(where: { $0.version == version }) else {
                throw StoreError("\(model) \(version) is not installed")
            }
            entry.versions[index].status = .failed
            entry.versions[index].failure = reason
            if entry.active == version { entry.active = nil }
            entry.history.removeAll { $0 == version }
            catalog.models[model] = entry
        }
    }

    /// Removes an installed version that is not active, and its blob when nothing else uses it.
    public func remove(_ model: String, _ version: SemanticVersion) throws(StoreError) {
        try update { catalog throws(StoreError) in
            guard var entry = catalog.models[model], entry.record(version) != nil else { throw StoreError("\(model) \(version) is not installed") }
            guard entry.active != version else { throw StoreError("\(model) \(version) is active; activate or roll back to another version first") }
            entry.versions.removeAll { $0.version == version }
            entry.history.removeAll { $0 == version }
            catalog.models[model] = entry.versions.isEmpty ? nil : entry
        }
        collectGarbage()
    }

    /// Keeps the active version and the `keep - 1` most recently installed others of each model; returns what went.
    @discardableResult
    public func prune(keep: Int) throws(StoreError) -> [VersionRecord] {
        var removed: [VersionRecord] = []
        try update { catalog in
            for (name, var entry) in catalog.models {
                let others = entry.versions.filter { $0.version != entry.active }.sorted { ($0.installedAt, $0.version) > ($1.installedAt, $1.version) }
                let dropped = others.dropFirst(max(0, keep - (entry.active == nil ? 0 : 1)))
                guard !dropped.isEmpty else { continue }
                removed += dropped
                let gone = Set(dropped.map(\.version))
                entry.versions.removeAll { gone.contains($0.version) }
                entry.history.removeAll { gone.contains($0) }
                catalog.models[name] = entry
            }
        }
        collectGarbage()
        return removed
    }

    // MARK: - Releases

    /// The highest release number accepted for `channel`.
    public func acceptedRelease(_ channel: String) -> Int64? { state.withLock { $0.releases[channel] } }

    /// Records release `number` of `channel` as accepted; a lower number is refused from now on.
    public func acceptRelease(_ channel: String, _ number: Int64) throws(StoreError) {
        try update { catalog throws(StoreError) in
            guard number >= catalog.releases[channel] ?? 0 else {
                throw StoreError("release \(number) of \(channel) is older than the accepted \(catalog.releases[channel]!)")
            }
            catalog.releases[channel] = number
        }
    }

    // MARK: - Loading

    /// Decrypts a version's model into anonymous memory kept out of core dumps, on `threads` threads.
    public func load(_ record: VersionRecord, threads: Int) throws(StoreError) -> MappedFile {
        let path = blobPath(record)
        let reader = try SealedReader(path: path, identity: try Self.hexBytes(record.blob))
        guard reader.plaintextBytes == record.modelSize else {
            throw StoreError("\(path) holds \(reader.plaintextBytes) bytes where \(record.model) \(record.version) has \(record.modelSize)")
        }
        let mapping: MappedFile
        do {
            mapping = try MappedFile(anonymousBytes: Int(record.modelSize), path: "\(record.model) \(record.version) (store)")
        } catch {
            throw StoreError("cannot hold \(record.model) \(record.version) in memory: \(error)")
        }
        try mapping.fill { (bytes) throws(StoreError) in
            try reader.decrypt(into: bytes, key: encryptionKey, threads: threads) { range in mapping.populate(range) }
        }
        mapping.makeReadOnly()
        return mapping
    }

    // MARK: - Internals

    /// Applies `change` to a copy of the catalog and makes it durable; the copy is kept only when that succeeded.
    private func update(_ change: (inout StoreCatalog) throws(StoreError) -> Void) throws(StoreError) {
        var failure: StoreError?
        state.withLock { catalog in
            var next = catalog
            do throws(StoreError) {
                try change(&next)
                next.generation += 1
                try Self.writeSealed(next.bytes, to: directory + "/catalog", identity: try Self.identity("catalog", namingKey), key: encryptionKey)
                catalog = next
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Removes blobs the catalog does not name (and that no install is writing).
    public func collectGarbage() {
        let keep = state.withLock { Set($0.models.values.flatMap { $0.versions.map(\.blob) }) }.union(writing.withLock { $0 })
        guard let names = try? FileSystem.listDirectory(directory + "/blobs") else { return }
        for name in names where !keep.contains(name) && !name.contains(".tmp-") {
            try? FileSystem.remove(directory + "/blobs/" + name)
        }
    }

    /// What a killed process leaves: temporary files, and blobs written before the catalog named them.
    private func removeLeftovers() throws(StoreError) {
        for folder in [directory, directory + "/blobs"] {
            guard let names = try? FileSystem.listDirectory(folder) else { continue }
            for name in names where name.contains(".tmp-") { try? FileSystem.remove(folder + "/" + name) }
        }
        collectGarbage()
    }

    func blobName(sha256 hex: String) throws(StoreError) -> String {
        do {
            return try KeyDerivation.keyedDigest(Array("blob:\(hex)".utf8), key: namingKey).map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
        } catch {
            throw StoreError("\(error)")
        }
    }

    static func identity(_ label: String, _ key: SecureBytes) throws(StoreError) -> [UInt8] {
        do {
            return try KeyDerivation.keyedDigest(Array("file:\(label)".utf8), key: key)
        } catch {
            throw StoreError("\(error)")
        }
    }

    static func hexBytes(_ hex: String) throws(StoreError) -> [UInt8] {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { throw StoreError("bad blob name \(hex.prefix(80))") }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let value = UInt8(String(decoding: bytes[i..<(i + 2)], as: UTF8.self), radix: 16) else { throw StoreError("bad blob name \(hex.prefix(80))") }
            out.append(value)
        }
        return out
    }

    /// Seals `bytes` into `path` atomically: temporary file, fsync, rename, directory fsync.
    static func writeSealed(_ bytes: [UInt8], to path: String, identity: [UInt8], key: SecureBytes) throws(StoreError) {
        let temporary = path + ".tmp-\(ProcessStats.pid)"
        try? FileSystem.remove(temporary)
        do {
            let writer = try SealedWriter(path: temporary, plaintextBytes: Int64(bytes.count), identity: identity, key: key)
            try writer.write(bytes)
            try writer.finish()
            try FileSystem.rename(temporary, to: path)
            try FileSystem.syncDirectory(FileSystem.directoryName(of: path))
        } catch let error as StoreError {
            try? FileSystem.remove(temporary)
            throw error
        } catch {
            try? FileSystem.remove(temporary)
            throw StoreError("cannot write \(path): \(error)")
        }
    }
}
